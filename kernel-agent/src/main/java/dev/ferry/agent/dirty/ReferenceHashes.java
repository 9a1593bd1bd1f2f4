package dev.ferry.agent.dirty;

import dev.ferry.proto.v1.PageBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the hash tracker compares with: a hash per page of each tracked range (keyed by the
 * range's start) standing for the content the destination holds. A collect builds a new table
 * from the pages' hashes at that moment; {@link #sent} then overwrites the pages a round read
 * with the hash of the bytes it read. Without that, a page that the round reads between two
 * collects and that changes back to what the first collect saw would never be reported, and the
 * destination would keep the bytes of the read.
 */
final class ReferenceHashes {
    private static final int PAGE = (int) PageRange.PAGE;

    private final TreeMap<Long, long[]> byStart = new TreeMap<>();

    void put(PageRange range, long[] hashes) {
        if (hashes.length != range.pages()) {
            throw new IllegalArgumentException(hashes.length + " hashes for " + range);
        }
        byStart.put(range.start(), hashes);
    }

    /** Adds the pages of {@code r} whose {@code current} hash differs from the reference (where there is one). */
    void addChanged(PageRange r, long[] current, List<PageRange> changed) {
        Long from = byStart.floorKey(r.start());
        Map<Long, long[]> overlapping = byStart.subMap(from == null ? r.start() : from, true, r.end(), false);
        for (Map.Entry<Long, long[]> old : overlapping.entrySet()) {
            long oldStart = old.getKey();
            long[] before = old.getValue();
            long start = Math.max(oldStart, r.start());
            long end = Math.min(oldStart + before.length * PageRange.PAGE, r.end());
            long runStart = -1;
            for (long a = start; a < end; a += PAGE) {
                boolean same = PageHashes.same(before[(int) ((a - oldStart) / PAGE)], current[(int) ((a - r.start()) / PAGE)]);
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

    /**
     * Makes the pages of {@code batches} hash as their bytes there (a zero run as zero pages).
     * Pages outside the tracked ranges are skipped: a mapping that appeared since the collect
     * is reported whole by the next one anyway.
     */
    void sent(List<PageBatch> batches) {
        for (PageBatch b : batches) {
            boolean zero = b.getData().isEmpty();
            if (!zero && b.getData().size() % PAGE != 0) {
                throw new IllegalArgumentException("page batch at 0x" + Long.toHexString(b.getAddress()) + " holds "
                        + b.getData().size() + " bytes, not whole pages");
            }
            ByteBuffer data = zero ? null : b.getData().asReadOnlyByteBuffer().slice().order(ByteOrder.nativeOrder());
            long first = b.getAddress();
            long end = first + (zero ? b.getZeroPages() : b.getData().size() / PAGE) * PageRange.PAGE;
            long at = first;
            while (at < end) {
                Map.Entry<Long, long[]> range = byStart.floorEntry(at);
                long rangeEnd = range == null ? at : range.getKey() + range.getValue().length * PageRange.PAGE;
                if (at >= rangeEnd) {   // not tracked: on to the next tracked range, if it starts inside the batch
                    Long next = byStart.higherKey(at);
                    at = next == null ? end : Math.min(next, end);
                    continue;
                }
                long[] hashes = range.getValue();
                for (long stop = Math.min(end, rangeEnd); at < stop; at += PAGE) {
                    hashes[(int) ((at - range.getKey()) / PAGE)] = zero ? PageHashes.ZERO : PageHashes.ofPage(data, (int) (at - first));
                }
            }
        }
    }
}
