package dev.ferry.cli;

import dev.ferry.proto.v1.Rlimit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads resource limits in the format of {@code /proc/PID/limits}.
 *
 * <p>The kernel prints each limit as a name padded to 25 columns, then soft and hard values
 * ("unlimited" for RLIM_INFINITY) and a unit. Names are matched, not positions, so a kernel
 * that adds a limit does not shift the others; unknown names are skipped.
 */
public final class ProcLimits {
    /** RLIM_INFINITY as an unsigned 64-bit value (all bits set). */
    public static final long UNLIMITED = -1L;

    private static final int NAME_WIDTH = 25;
    private static final Map<String, Integer> RESOURCES = Map.ofEntries(
            Map.entry("Max cpu time", 0),
            Map.entry("Max file size", 1),
            Map.entry("Max data size", 2),
            Map.entry("Max stack size", 3),
            Map.entry("Max core file size", 4),
            Map.entry("Max resident set", 5),
            Map.entry("Max processes", 6),
            Map.entry("Max open files", 7),
            Map.entry("Max locked memory", 8),
            Map.entry("Max address space", 9),
            Map.entry("Max file locks", 10),
            Map.entry("Max pending signals", 11),
            Map.entry("Max msgqueue size", 12),
            Map.entry("Max nice priority", 13),
            Map.entry("Max realtime priority", 14),
            Map.entry("Max realtime timeout", 15));

    private ProcLimits() {
    }

    /** Parses the whole file text; the result is ordered by resource number. */
    public static List<Rlimit> parse(String text) {
        Rlimit[] byResource = new Rlimit[16];
        for (String line : text.split("\n")) {
            if (line.length() <= NAME_WIDTH) {
                continue;
            }
            Integer resource = RESOURCES.get(line.substring(0, NAME_WIDTH).trim());
            if (resource == null) {
                continue;
            }
            String[] values = line.substring(NAME_WIDTH).trim().split("\\s+");
            if (values.length < 2) {
                throw new IllegalArgumentException("malformed limits line: " + line);
            }
            byResource[resource] = Rlimit.newBuilder()
                    .setResource(resource)
                    .setSoft(value(values[0]))
                    .setHard(value(values[1]))
                    .build();
        }
        List<Rlimit> limits = new ArrayList<>();
        for (Rlimit limit : byResource) {
            if (limit != null) {
                limits.add(limit);
            }
        }
        return limits;
    }

    private static long value(String text) {
        return text.equals("unlimited") ? UNLIMITED : Long.parseUnsignedLong(text);
    }
}
