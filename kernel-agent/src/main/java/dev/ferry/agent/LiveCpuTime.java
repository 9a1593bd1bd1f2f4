package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** CPU time of live processes from /proc/PID/stat (utime + stime), for hosts without cpuacct. */
final class LiveCpuTime {
    /** USER_HZ is 100 on every Linux ABI the agent runs on. */
    private static final long MICROS_PER_TICK = 10_000;

    private LiveCpuTime() {}

    static long micros(List<Integer> pids) {
        long ticks = 0;
        for (int pid : pids) {
            try {
                ticks += ticks(ProcText.read(Path.of("/proc", Integer.toString(pid), "stat")));
            } catch (IOException gone) {
                // exited meanwhile: its time is lost, which is why cpuacct is preferred
            }
        }
        return ticks * MICROS_PER_TICK;
    }

    /** Fields 14 and 15 of /proc/PID/stat; counted after the ")" that ends the command name. */
    static long ticks(String stat) {
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(rest[11]) + Long.parseLong(rest[12]);
    }
}
