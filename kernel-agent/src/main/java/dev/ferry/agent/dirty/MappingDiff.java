package dev.ferry.agent.dirty;

import dev.ferry.agent.checkpoint.VmArea;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which addresses a tracker covers, kept up to date by diffing /proc/PID/maps each round:
 * every mmap, brk growth (the heap splits into new areas once it is tracked) and mremap (which
 * moves an area away from its registration) shows up as new, every munmap as unmapped.
 * Areas that stop being writable stay tracked until they are unmapped: a write may have come
 * before the mprotect.
 */
final class MappingDiff {
    private final Path maps;
    private RangeSet tracked = RangeSet.EMPTY;

    /** What changed since the previous round; {@code areas} are the maps just read. */
    record Round(List<VmArea> areas, RangeSet fresh, RangeSet unmapped, RangeSet tracked) {}

    MappingDiff(int pid) {
        this.maps = Path.of("/proc", Integer.toString(pid), "maps");
    }

    RangeSet tracked() {
        return tracked;
    }

    /** Reads the maps and moves on to the new tracked set (old ∩ mapped, plus every candidate). */
    Round next() throws IOException {
        List<VmArea> areas = readAreas();
        RangeSet candidates = candidates(areas);
        RangeSet mapped = mapped(areas);
        RangeSet fresh = candidates.minus(tracked);
        RangeSet unmapped = tracked.minus(mapped);
        tracked = tracked.intersect(mapped).union(candidates);
        return new Round(areas, fresh, unmapped, tracked);
    }

    /** Drops addresses the tracker cannot follow (they are then new again next round). */
    void forget(RangeSet ranges) {
        tracked = tracked.minus(ranges);
    }

    /** Tracks {@code ranges} from now on (already registered by the caller). */
    void adopt(RangeSet ranges) {
        tracked = tracked.union(ranges);
    }

    List<VmArea> readAreas() throws IOException {
        try {
            return VmArea.parseSmaps(Files.readString(maps));
        } catch (NoSuchFileException e) {
            throw new IOException("process of " + maps + " is gone", e);
        }
    }

    /** Writable private mappings, less the kernel's special ones. */
    static boolean isCandidate(VmArea a) {
        return a.perms().charAt(1) == 'w' && !a.shared() && !a.isVdsoFamily() && !a.path().equals("[vsyscall]");
    }

    static RangeSet candidates(List<VmArea> areas) {
        List<PageRange> out = new ArrayList<>();
        for (VmArea a : areas) {
            if (isCandidate(a)) {
                out.add(PageRange.between(a.start(), a.end()));
            }
        }
        return RangeSet.of(out);
    }

    static RangeSet mapped(List<VmArea> areas) {
        List<PageRange> out = new ArrayList<>();
        for (VmArea a : areas) {
            if (!a.path().equals("[vsyscall]")) {
                out.add(PageRange.between(a.start(), a.end()));
            }
        }
        return RangeSet.of(out);
    }
}
