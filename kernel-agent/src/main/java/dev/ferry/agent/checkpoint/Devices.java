package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.FileDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which device files can be carried: the memory devices that hold no state a program could
 * observe (/dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom), recognised by their
 * device numbers (fixed on every Linux), and reopened by path on rebuild after the same check.
 * Every other device (terminals, pty masters, disks, ...) has state in the kernel and is refused.
 */
public final class Devices {
    private static final int S_IFMT = 0170000, S_IFCHR = 0020000, S_IFBLK = 0060000;
    private static final int MEM_MAJOR = 1, NULL = 3, ZERO = 5, FULL = 7, RANDOM = 8, URANDOM = 9;

    private Devices() {}

    /** Linux's dev_t encoding (glibc's gnu_dev_major / gnu_dev_minor). */
    public static long major(long rdev) {
        return ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
    }

    public static long minor(long rdev) {
        return (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
    }

    /** Whether a character device with this number can be reopened by path without losing state. */
    public static boolean stateless(long rdev) {
        long minor = minor(rdev);
        return major(rdev) == MEM_MAJOR && (minor == NULL || minor == ZERO || minor == FULL || minor == RANDOM || minor == URANDOM);
    }

    /** st_rdev of a character device, or -1 for anything else; follows symbolic links (and /proc fd links). */
    public static long charDevice(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode");
        return (mode & S_IFMT) == S_IFCHR ? (Long) Files.getAttribute(path, "unix:rdev") : -1;
    }

    /** For {@link FdTable}: fills a carried device fd, or says why it cannot move. */
    static String classify(Path fdLink, String target, FileDescriptor.Builder b) {
        try {
            int mode = (Integer) Files.getAttribute(fdLink, "unix:mode");
            long rdev = (Long) Files.getAttribute(fdLink, "unix:rdev");
            String number = major(rdev) + ":" + minor(rdev);
            if ((mode & S_IFMT) == S_IFCHR && stateless(rdev)) {
                boolean isNull = minor(rdev) == NULL;
                b.setKind(isNull ? FileDescriptor.Kind.DEV_NULL : FileDescriptor.Kind.DEVICE).setPath(target).setRdev(rdev);
                return null;
            }
            if ((mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK) {
                return "the device " + target + " (" + ((mode & S_IFMT) == S_IFCHR ? "character" : "block") + " device "
                        + number + "), whose kernel state cannot be carried";
            }
            return "the special file " + target + " (a FIFO or socket file), which cannot be carried yet";
        } catch (IOException | RuntimeException e) {
            return "an unreadable file " + target;
        }
    }
}
