package dev.ferry.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Waits until {@code run} is in the foreground of its terminal before it reads stdin from it.
 *
 * <p>{@code run} reads stdin eagerly, for a program that may never read it; a background job
 * that reads its terminal is stopped with SIGTTIN, so {@code run prog @ host &} would stop at
 * once. So when stdin is the controlling terminal, the stdin thread reads only while this
 * process group is the terminal's foreground group (polling /proc/self/stat; the JDK offers no
 * tcgetpgrp). A read already blocked when the job is sent to the background still stops it, as
 * it would stop a local program that reads its terminal.
 */
final class TerminalForeground {
    private static final long POLL_MILLIS = 100;
    private static final Path STAT = Path.of("/proc/self/stat");
    /** Field numbers in /proc/PID/stat, see proc(5). */
    static final int PGRP = 5;
    static final int TTY_NR = 7;
    static final int TPGID = 8;

    private TerminalForeground() {
    }

    /** True when fd 0 is this process's controlling terminal. */
    static boolean stdinIsControllingTerminal() {
        try {
            Object rdev = Files.getAttribute(Path.of("/proc/self/fd/0"), "unix:rdev");
            long terminal = field(Files.readString(STAT), TTY_NR);
            return terminal != 0 && rdev instanceof Long device && device == terminal;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Returns once this process group is the terminal's foreground group (or it cannot tell). */
    static void await() throws InterruptedException {
        while (true) {
            String stat;
            try {
                stat = Files.readString(STAT);
            } catch (IOException e) {
                return;
            }
            if (isForeground(stat)) {
                return;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** In the foreground, or without a terminal (tpgid -1). */
    static boolean isForeground(String stat) {
        long tpgid = field(stat, TPGID);
        return tpgid < 0 || tpgid == field(stat, PGRP);
    }

    /**
     * Field {@code number} (1-based, as in proc(5)) of a /proc/PID/stat line. The command name
     * (field 2) may contain spaces and parentheses, so counting starts after its last ')'.
     */
    static long field(String stat, int number) {
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(rest[number - 3]);
    }
}
