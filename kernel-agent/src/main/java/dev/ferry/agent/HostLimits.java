package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The highest hard limit this host lets a launched program have, per resource: the kernel's
 * own ceiling (RLIMIT_NOFILE cannot exceed fs.nr_open) and, unless this process holds
 * CAP_SYS_RESOURCE, its own hard limits (which the launcher inherits and cannot raise).
 */
record HostLimits(long[] maxHard) {
    private static final int CAP_SYS_RESOURCE = 24;

    static HostLimits read(Path procRoot) throws IOException {
        long nrOpen = Long.parseLong(ProcText.read(procRoot.resolve("sys/fs/nr_open")).strip());
        boolean canRaise = hasCapability(ProcText.read(procRoot.resolve("self/status")), CAP_SYS_RESOURCE);
        long[] own = canRaise ? null : parseHardLimits(ProcText.read(procRoot.resolve("self/limits")));
        return of(nrOpen, own);
    }

    /** {@code ownHard} null means this process may raise hard limits (CAP_SYS_RESOURCE). */
    static HostLimits of(long nrOpen, long[] ownHard) {
        long[] max = new long[RlimitSpec.PROC_LIMITS_NAMES.size()];
        Arrays.fill(max, RlimitSpec.INFINITY);
        if (ownHard != null) {
            System.arraycopy(ownHard, 0, max, 0, Math.min(ownHard.length, max.length));
        }
        max[RlimitSpec.NOFILE] = unsignedMin(max[RlimitSpec.NOFILE], nrOpen);
        return new HostLimits(max);
    }

    long maxHard(int resource) {
        return maxHard[resource];
    }

    /** Hard limits from /proc/PID/limits, indexed by resource number; missing lines are unlimited. */
    static long[] parseHardLimits(String text) {
        long[] hard = new long[RlimitSpec.PROC_LIMITS_NAMES.size()];
        Arrays.fill(hard, RlimitSpec.INFINITY);
        for (String line : text.split("\n")) {
            for (int res = 0; res < hard.length; res++) {
                String name = RlimitSpec.PROC_LIMITS_NAMES.get(res);
                if (line.startsWith(name + " ")) {
                    String[] values = line.substring(name.length()).strip().split("\\s+");
                    hard[res] = values[1].equals("unlimited") ? RlimitSpec.INFINITY : Long.parseUnsignedLong(values[1]);
                }
            }
        }
        return hard;
    }

    /** Whether the CapEff line of a /proc/PID/status text has capability {@code cap}. */
    static boolean hasCapability(String status, int cap) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                long mask = Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
                return (mask >>> cap & 1) != 0;
            }
        }
        return false;
    }

    static long unsignedMin(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }
}
