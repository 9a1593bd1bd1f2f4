package dev.ferry.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** Small reads and writes of cgroup control files, shared by the v1 and v2 implementations. */
final class CgroupFiles {
    /** Freezing takes well under a millisecond here; a task in uninterruptible sleep can delay it. */
    static final Duration FREEZE_TIMEOUT = Duration.ofSeconds(5);
    /** How long killed processes may take to leave their cgroup. */
    static final Duration EMPTY_TIMEOUT = Duration.ofSeconds(2);
    private static final long POLL_MILLIS = 1;

    private CgroupFiles() {}

    /** One write(2) without O_CREAT/O_TRUNC: control files reject partial or odd writes. */
    static void write(Path file, String value) throws IOException {
        Files.writeString(file, value, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
    }

    static String read(Path file) throws IOException {
        return ProcText.read(file);
    }

    /** The pids listed in a cgroup.procs file; empty if the cgroup is gone. */
    static List<Integer> pids(Path procsFile) {
        List<Integer> pids = new ArrayList<>();
        try {
            for (String line : ProcText.read(procsFile).split("\n")) {
                if (!line.isBlank()) {
                    pids.add(Integer.parseInt(line.strip()));
                }
            }
        } catch (IOException e) {
            if (gone(procsFile.getParent())) {
                return List.of();
            }
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /**
     * Whether a cgroup directory has been removed. Asked after an IOException: a file of a
     * cgroup removed meanwhile fails with ENOENT or ENODEV, which Java does not tell apart
     * from other errors.
     */
    static boolean gone(Path cgroupDir) {
        return !Files.isDirectory(cgroupDir);
    }

    /** The value after {@code key} in a flat-keyed file like cgroup.events or cpu.stat. */
    static OptionalLong keyedValue(String text, String key) {
        for (String line : text.split("\n")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length == 2 && parts[0].equals(key)) {
                return OptionalLong.of(Long.parseLong(parts[1]));
            }
        }
        return OptionalLong.empty();
    }

    interface Check {
        boolean done() throws IOException;
    }

    /** Polls {@code check} until it holds or {@code timeout} passes; says whether it held. */
    static boolean await(Duration timeout, Check check) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int polls = 0; !check.done(); polls++) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            if (polls < QUICK_POLLS) {
                java.util.concurrent.locks.LockSupport.parkNanos(QUICK_POLL_NANOS);   // a freeze usually settles within 1 ms
            } else {
                sleep(POLL_MILLIS);
            }
        }
        return true;
    }

    /** The first polls come every 50 µs: a migration's freeze waits for several freezes and thaws. */
    private static final int QUICK_POLLS = 40;
    private static final long QUICK_POLL_NANOS = 50_000;

    /** rmdir, retrying while the kernel still counts exiting processes (EBUSY). */
    static void removeDir(Path dir, Duration timeout) {
        try {
            boolean gone = await(timeout, () -> {
                try {
                    Files.deleteIfExists(dir);
                    return true;
                } catch (FileSystemException busy) {
                    return false;
                }
            });
            if (!gone) {
                Files.deleteIfExists(dir);   // one last try, reporting the kernel's reason
            }
        } catch (IOException e) {
            throw new UncheckedIOException("removing cgroup " + dir, e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
