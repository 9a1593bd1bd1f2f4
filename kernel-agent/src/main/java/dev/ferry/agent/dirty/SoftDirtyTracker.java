package dev.ferry.agent.dirty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The classic tracker (CRIU's pre-dump): writing "4" to /proc/PID/clear_refs clears every
 * page's soft-dirty bit (pagemap bit 55) and write-protects it; the kernel sets the bit again
 * on the next write. Needs CONFIG_MEM_SOFT_DIRTY, which this project's test kernel lacks.
 * Reading the bits and clearing them are two steps with no atomic form, so every thread of the
 * target is held stopped between them (a write in the gap would be lost for good).
 */
final class SoftDirtyTracker implements DirtyTracker {
    private final int pid;
    private final TargetStop stop;
    private final MappingDiff diff;
    private final Path clearRefs;
    private Pagemap pagemap;

    SoftDirtyTracker(int pid, TargetStop stop) {
        this.pid = pid;
        this.stop = stop;
        this.diff = new MappingDiff(pid);
        this.clearRefs = Path.of("/proc", Integer.toString(pid), "clear_refs");
    }

    @Override
    public String name() {
        return DirtyTrackers.SOFT_DIRTY;
    }

    @Override
    public void start() throws IOException {
        if (pagemap != null) {
            throw new IllegalStateException("already started");
        }
        pagemap = new Pagemap(pid);
        stop.whileStopped(inject -> {
            diff.next();
            clear();
            return null;
        });
    }

    @Override
    public DirtyPages collect() throws IOException {
        if (pagemap == null) {
            throw new IllegalStateException("not started");
        }
        return stop.whileStopped(inject -> {
            MappingDiff.Round round = diff.next();
            List<PageRange> written = new ArrayList<>();
            for (PageRange r : round.tracked().minus(round.fresh()).ranges()) {
                pagemap.read(r, (first, entries) -> written.addAll(Pagemap.runs(first, entries, Pagemap::softDirty)));
            }
            clear();
            return new DirtyPages(RangeSet.of(written), round.fresh(), round.unmapped());
        });
    }

    static void clearSoftDirty(Path clearRefs) throws IOException {
        Files.writeString(clearRefs, "4");
    }

    private void clear() throws IOException {
        clearSoftDirty(clearRefs);
    }

    /** Nothing to undo: clearing again would only cost the program faults; close the pagemap. */
    @Override
    public void close() {
        if (pagemap != null) {
            pagemap.close();
            pagemap = null;
        }
    }
}
