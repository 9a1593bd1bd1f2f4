package dev.ferry.agent.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VmFlags of a process' areas (huge-page advice, dontdump, dontfork, ...), which only
 * /proc/PID/smaps shows, and smaps walks every page table to count pages: 10 ms for 256 MiB,
 * four times that for 1 GiB. Pre-copy reads it just before the freeze, and the capture at the
 * freeze reads the cheap /proc/PID/maps and takes each area's flags from here. An area that
 * is not here exactly (it appeared, moved or was split since) makes the capture read smaps
 * after all. Not seen: a madvise that changes the flags of a whole area in the last
 * milliseconds before the freeze (README "Limits").
 */
public final class VmFlagsSnapshot {
    private final Map<String, List<String>> flags = new HashMap<>();

    private VmFlagsSnapshot(List<VmArea> areas) {
        for (VmArea a : areas) {
            flags.put(key(a), a.vmFlags());
        }
    }

    /** Reads the process' smaps now. */
    public static VmFlagsSnapshot take(int hostPid) throws IOException {
        return new VmFlagsSnapshot(VmArea.parseSmaps(Files.readString(Path.of("/proc", Integer.toString(hostPid), "smaps"))));
    }

    /** {@code areas} (from maps) with their flags, or empty when one of them is not in the snapshot. */
    Optional<List<VmArea>> withFlags(List<VmArea> areas) {
        List<VmArea> out = new ArrayList<>(areas.size());
        for (VmArea a : areas) {
            List<String> f = flags.get(key(a));
            if (f == null) {
                return Optional.empty();
            }
            out.add(new VmArea(a.start(), a.end(), a.perms(), a.offset(), a.inode(), a.path(), f));
        }
        return Optional.of(out);
    }

    private static String key(VmArea a) {
        return a.start() + " " + a.end() + " " + a.perms() + " " + a.offset() + " " + a.inode() + " " + a.path();
    }
}
