package dev.ferry.agent.dirty;

import com.sun.jna.Memory;
import dev.ferry.agent.ptrace.RemoteMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The portable fallback: hashes every page of every writable private mapping and compares
 * with the previous round. Needs only process_vm_readv and pagemap's present bits (no kernel
 * feature, no change in the target) and reports content changes, so a write of the same bytes
 * does not count. Costs a full read of the tracked memory per round. {@link #start()} takes
 * the first hashes, so the first collect reports only what changed after it.
 */
final class HashTracker implements DirtyTracker {
    private static final int READ_BYTES = 4 << 20;

    private final int pid;
    private final MappingDiff diff;
    private final Memory buffer = new Memory(READ_BYTES);
    private final ByteBuffer view = buffer.getByteBuffer(0, READ_BYTES).order(ByteOrder.nativeOrder());
    private Pagemap pagemap;
    private RemoteMemory memory;
    /** Page hashes of each tracked range, by its start address. */
    private TreeMap<Long, long[]> hashes;

    HashTracker(int pid) {
        this.pid = pid;
        this.diff = new MappingDiff(pid);
    }

    @Override
    public String name() {
        return DirtyTrackers.HASH;
    }

    @Override
    public void start() throws IOException {
        if (hashes != null) {
            throw new IllegalStateException("already started");
        }
        pagemap = new Pagemap(pid);
        memory = new RemoteMemory(pid);
        hashes = new TreeMap<>();
        collect();
    }

    @Override
    public DirtyPages collect() throws IOException {
        if (hashes == null) {
            throw new IllegalStateException("not started");
        }
        MappingDiff.Round round = diff.next();
        TreeMap<Long, long[]> now = new TreeMap<>();
        List<PageRange> changed = new ArrayList<>();
        for (PageRange r : round.tracked().ranges()) {
            long[] current = hashRange(r);
            compare(r, current, changed);
            now.put(r.start(), current);
        }
        hashes = now;
        return new DirtyPages(RangeSet.of(changed), round.fresh(), round.unmapped());
    }

    /** Adds the pages of {@code r} whose hash differs from the previous round's (where there was one). */
    private void compare(PageRange r, long[] current, List<PageRange> changed) {
        Long from = hashes.floorKey(r.start());
        Map<Long, long[]> overlapping = hashes.subMap(from == null ? r.start() : from, true, r.end(), false);
        for (Map.Entry<Long, long[]> old : overlapping.entrySet()) {
            long oldStart = old.getKey();
            long[] before = old.getValue();
            long start = Math.max(oldStart, r.start());
            long end = Math.min(oldStart + before.length * PageRange.PAGE, r.end());
            long runStart = -1;
            for (long a = start; a < end; a += PageRange.PAGE) {
                boolean same = PageHashes.same(before[(int) ((a - oldStart) / PageRange.PAGE)],
                        current[(int) ((a - r.start()) / PageRange.PAGE)]);
                if (!same && runStart < 0) {
                    runStart = a;
                } else if (same && runStart >= 0) {
                    changed.add(PageRange.between(runStart, a));
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                changed.add(PageRange.between(runStart, end));
            }
        }
    }

    private long[] hashRange(PageRange r) throws IOException {
        long[] out = new long[(int) r.pages()];
        pagemap.read(r, (first, entries) -> {
            int base = (int) ((first - r.start()) / PageRange.PAGE);
            for (PageRange run : Pagemap.runs(first, entries, e -> Pagemap.present(e) && !Pagemap.swapped(e))) {
                hashPresent(run, out, (int) ((run.start() - r.start()) / PageRange.PAGE));
            }
            for (int i = 0; i < entries.remaining(); i++) {
                long e = entries.get(i);
                if (!Pagemap.present(e)) {
                    out[base + i] = Pagemap.swapped(e) ? PageHashes.ofSwapEntry(e) : PageHashes.ABSENT;
                }
            }
        });
        return out;
    }

    private void hashPresent(PageRange run, long[] out, int index) {
        for (long at = run.start(); at < run.end(); ) {
            int length = (int) Math.min(READ_BYTES, run.end() - at);
            int pages = length / (int) PageRange.PAGE;
            if (read(at, length)) {
                for (int p = 0; p < pages; p++) {
                    out[index + p] = PageHashes.ofPage(view, p * (int) PageRange.PAGE);
                }
            } else {
                java.util.Arrays.fill(out, index, index + pages, PageHashes.UNKNOWN);
            }
            index += pages;
            at += length;
        }
    }

    /** process_vm_readv, or /proc/PID/mem for a mapping that is not readable; false if both fail (a race). */
    private boolean read(long address, int length) {
        try {
            memory.readInto(buffer, address, length, true);
            return true;
        } catch (IOException e) {
            try {
                memory.readInto(buffer, address, length, false);
                return true;
            } catch (IOException again) {
                return false;
            }
        }
    }

    @Override
    public void close() {
        hashes = null;
        if (pagemap != null) {
            pagemap.close();
            pagemap = null;
        }
        if (memory != null) {
            try {
                memory.close();
            } catch (IOException e) {
                // only a /proc/PID/mem channel to release
            }
            memory = null;
        }
    }
}
