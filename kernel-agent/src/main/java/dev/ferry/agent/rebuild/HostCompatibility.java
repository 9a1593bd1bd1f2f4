package dev.ferry.agent.rebuild;

import dev.ferry.proto.v1.HostFeatures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Whether an image can be rebuilt on this host, decided before anything is created: the same
 * architecture, the same CPU state layout (XCR0 and XSAVE size, asked once of
 * {@code ferry-init --host-features}, since Java cannot run cpuid/xgetbv) and the same kernel
 * family (major version: the vdso layout and the restorable state depend on it).
 */
public final class HostCompatibility {
    private static final ConcurrentHashMap<Path, HostFeatures> CACHE = new ConcurrentHashMap<>();

    private HostCompatibility() {}

    /** This host's features, as ferry-init reports them (cached per binary). */
    public static HostFeatures local(Path initBinary) throws IOException {
        HostFeatures known = CACHE.get(initBinary);
        if (known != null) {
            return known;
        }
        Process p = new ProcessBuilder(initBinary.toString(), "--host-features").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(initBinary + " --host-features failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String[] f = out.split("\\s+");   // "xcr0 HEX xstate-size N"
        if (f.length != 4 || !f[0].equals("xcr0") || !f[2].equals("xstate-size")) {
            throw new IOException(initBinary + " --host-features said: " + out);
        }
        HostFeatures here = HostFeatures.newBuilder().setArch(System.getProperty("os.arch").equals("amd64") ? "x86_64"
                        : System.getProperty("os.arch")).setXcr0(Long.parseUnsignedLong(f[1], 16))
                .setXstateSize(Integer.parseInt(f[3]))
                .setKernelRelease(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip()).build();
        CACHE.put(initBinary, here);
        return here;
    }

    /** Why an image captured on {@code image} cannot be rebuilt on {@code here}, or null. */
    public static String mismatch(HostFeatures image, HostFeatures here) {
        if (!image.getArch().equals(here.getArch())) {
            return "the image is for " + image.getArch() + ", this host is " + here.getArch();
        }
        if (image.getXcr0() != here.getXcr0() || image.getXstateSize() != here.getXstateSize()) {
            return "the CPU state layout differs: the image has xcr0 0x" + Long.toHexString(image.getXcr0()) + " ("
                    + image.getXstateSize() + "-byte xstate), this host 0x" + Long.toHexString(here.getXcr0()) + " ("
                    + here.getXstateSize() + " bytes)";
        }
        if (!major(image.getKernelRelease()).equals(major(here.getKernelRelease()))) {
            return "the kernel family differs: the image was captured on Linux " + image.getKernelRelease()
                    + ", this host runs " + here.getKernelRelease();
        }
        return null;
    }

    private static String major(String release) {
        int dot = release.indexOf('.');
        return dot < 0 ? release : release.substring(0, dot);
    }
}
