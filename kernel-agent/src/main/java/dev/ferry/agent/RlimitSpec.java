package dev.ferry.agent;

import java.util.List;

/**
 * One resource limit for a program: Linux resource number and soft/hard values, compared as
 * unsigned numbers so that {@link #INFINITY} ({@code -1L}, RLIM_INFINITY) is the largest.
 */
public record RlimitSpec(int resource, long soft, long hard) {
    public static final long INFINITY = -1L;

    public static final int CPU = 0;
    public static final int FSIZE = 1;
    public static final int DATA = 2;
    public static final int STACK = 3;
    public static final int CORE = 4;
    public static final int NPROC = 6;
    public static final int NOFILE = 7;
    public static final int MEMLOCK = 8;
    public static final int AS = 9;

    /** Resource names in the order of their numbers, as /proc/PID/limits prints them. */
    static final List<String> PROC_LIMITS_NAMES = List.of(
            "Max cpu time", "Max file size", "Max data size", "Max stack size", "Max core file size",
            "Max resident set", "Max processes", "Max open files", "Max locked memory",
            "Max address space", "Max file locks", "Max pending signals", "Max msgqueue size",
            "Max nice priority", "Max realtime priority", "Max realtime timeout");

    public RlimitSpec {
        if (resource < 0 || resource >= PROC_LIMITS_NAMES.size()) {
            throw new IllegalArgumentException("unknown resource limit " + resource);
        }
    }

    /** The name /proc/PID/limits uses for this resource, e.g. "Max open files". */
    public String name() {
        return PROC_LIMITS_NAMES.get(resource);
    }

    /** A limit value as text: "unlimited" or the unsigned decimal number. */
    public static String format(long value) {
        return value == INFINITY ? "unlimited" : Long.toUnsignedString(value);
    }
}
