package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.ferry.proto.v1.PageBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hash tracker's reference table on its own: batches that straddle, miss or cover tracked ranges. */
class ReferenceHashesTest {
    private static final int PAGE = (int) PageRange.PAGE;
    private static final PageRange LOW = new PageRange(0x10000, 4 * PAGE), HIGH = new PageRange(0x20000, 2 * PAGE);

    /** Pages whose first word is the given value (native order, as read from a process). */
    private static ByteBuffer pages(long... firstWords) {
        ByteBuffer b = ByteBuffer.allocate(firstWords.length * PAGE).order(ByteOrder.nativeOrder());
        for (int i = 0; i < firstWords.length; i++) {
            b.putLong(i * PAGE, firstWords[i]);
        }
        return b;
    }

    private static long[] hashes(long... firstWords) {
        ByteBuffer b = pages(firstWords);
        long[] out = new long[firstWords.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = PageHashes.ofPage(b, i * PAGE);
        }
        return out;
    }

    private static PageBatch data(long address, long... firstWords) {
        return PageBatch.newBuilder().setAddress(address).setData(ByteString.copyFrom(pages(firstWords))).build();
    }

    private static PageBatch zeros(long address, long count) {
        return PageBatch.newBuilder().setAddress(address).setZeroPages(count).build();
    }

    private static List<PageRange> changed(ReferenceHashes ref, PageRange r, long[] current) {
        List<PageRange> out = new ArrayList<>();
        ref.addChanged(r, current, out);
        return out;
    }

    @Test
    void sentPagesReplaceTheCollectedHashesInsideTrackedRangesOnly() {
        ReferenceHashes ref = new ReferenceHashes();
        ref.put(LOW, hashes(1, 2, 3, 4));
        ref.put(HIGH, hashes(5, 6));
        // data from one page below LOW into its first two; zeros from the gap into HIGH's first page
        ref.sent(List.of(data(0xf000, 9, 7, 8), zeros(0x1e000, 3)));

        assertEquals(List.of(), changed(ref, LOW, hashes(7, 8, 3, 4)));
        assertEquals(List.of(), changed(ref, HIGH, hashes(0, 6)));
        // what collect saw before the round is now a change: the destination holds what was sent
        assertEquals(List.of(new PageRange(0x10000, 2 * PAGE)), changed(ref, LOW, hashes(1, 2, 3, 4)));
        assertEquals(List.of(new PageRange(0x20000, PAGE)), changed(ref, HIGH, hashes(5, 6)));
    }

    @Test
    void aBatchOutsideEveryTrackedRangeChangesNothing() {
        ReferenceHashes ref = new ReferenceHashes();
        ref.put(LOW, hashes(1, 2, 3, 4));
        ref.sent(List.of(data(0x40000, 9), zeros(0, 16), zeros(0x14000, 1)));
        assertEquals(List.of(), changed(ref, LOW, hashes(1, 2, 3, 4)));
    }

    @Test
    void aBatchOfPartPagesIsRefused() {
        ReferenceHashes ref = new ReferenceHashes();
        ref.put(LOW, hashes(1, 2, 3, 4));
        PageBatch torn = PageBatch.newBuilder().setAddress(0x10000).setData(ByteString.copyFrom(new byte[100])).build();
        assertThrows(IllegalArgumentException.class, () -> ref.sent(List.of(torn)));
        assertThrows(IllegalArgumentException.class, () -> ref.put(HIGH, new long[3]));
    }

    @Test
    void aZeroPageHashesAsZero() {
        assertEquals(PageHashes.ZERO, PageHashes.ofPage(pages(0), 0));
    }
}
