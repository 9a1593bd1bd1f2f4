package dev.ferry.agent.dirty;

import com.sun.jna.Memory;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.proto.v1.PageBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The portable fallback: hashes every page of every writable private mapping and compares
 * with what the destination holds: the hash of the bytes a round last sent for the page (handed
 * over with {@link #sent}), else its hash at the previous collect. Needs only process_vm_readv
 * and pagemap's present bits (no kernel feature, no change in the target) and reports content
 * changes, so a write of the same bytes does not count. Costs a full read of the tracked memory
 * per collect plus a hash of what each round read. {@link #start()} takes the first hashes, so
 * the first collect reports only what changed after it (or after round 1 read it, once that round
 * is handed to {@link #sent}). An anonymous page that is not there hashes as a page of zeros,
 * which is what it reads as; one of a file mapping reads as the file and hashes as "absent".
 */
final class HashTracker implements DirtyTracker {
    private static final int READ_BYTES = 4 << 20;

    private final int pid;
    private final MappingDiff diff;
    private final Memory buffer = new Memory(READ_BYTES);
    private final ByteBuffer view = buffer.getByteBuffer(0, READ_BYTES).order(ByteOrder.nativeOrder());
    private Pagemap pagemap;
    private RemoteMemory memory;
    /** What each tracked page is compared with: its hash at the last collect, or as a round last sent it. */
    private ReferenceHashes reference;

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
        if (reference != null) {
            throw new IllegalStateException("already started");
        }
        pagemap = new Pagemap(pid);
        memory = new RemoteMemory(pid);
        reference = new ReferenceHashes();
        collect();
    }

    @Override
    public DirtyPages collect() throws IOException {
        if (reference == null) {
            throw new IllegalStateException("not started");
        }
        MappingDiff.Round round = diff.next();
        RangeSet anonymous = anonymous(round.areas());
        ReferenceHashes now = new ReferenceHashes();
        List<PageRange> changed = new ArrayList<>();
        for (PageRange r : round.tracked().ranges()) {
            long[] current = hashRange(r, anonymous.intersect(RangeSet.of(List.of(r))));
            reference.addChanged(r, current, changed);
            now.put(r, current);
        }
        reference = now;
        return new DirtyPages(RangeSet.of(changed), round.fresh(), round.unmapped());
    }

    /**
     * Takes the round's pages as what the destination now holds, hashing the bytes the round
     * read: not the hash the collect took, since the process may have changed a page in between.
     */
    @Override
    public void sent(List<PageBatch> batches) {
        if (reference == null) {
            throw new IllegalStateException("not started");
        }
        reference.sent(batches);
    }

    /** Where a page that is not there reads as zeros: every mapping that is not of a file. */
    private static RangeSet anonymous(List<VmArea> areas) {
        List<PageRange> out = new ArrayList<>();
        for (VmArea a : areas) {
            if (!a.fileBacked()) {
                out.add(PageRange.between(a.start(), a.end()));
            }
        }
        return RangeSet.of(out);
    }

    /** The hashes of {@code r}'s pages now; {@code anonymous} are its parts where a page that is not there reads as zeros. */
    private long[] hashRange(PageRange r, RangeSet anonymous) throws IOException {
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
        for (PageRange zeros : anonymous.ranges()) {
            for (long a = zeros.start(); a < zeros.end(); a += PageRange.PAGE) {
                int i = (int) ((a - r.start()) / PageRange.PAGE);
                if (out[i] == PageHashes.ABSENT) {
                    out[i] = PageHashes.ZERO;   // as a round reads it, and as it is at the destination
                }
            }
        }
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
        reference = null;
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
