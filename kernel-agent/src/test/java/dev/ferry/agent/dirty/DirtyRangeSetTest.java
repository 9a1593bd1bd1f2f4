package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DirtyRangeSetTest {
    private static final long P = PageRange.PAGE;

    private static PageRange r(long fromPage, long toPage) {
        return PageRange.between(fromPage * P, toPage * P);
    }

    private static RangeSet set(PageRange... ranges) {
        return RangeSet.of(List.of(ranges));
    }

    @Test
    void ofSortsAndMergesOverlappingAndTouchingRanges() {
        assertEquals(List.of(r(1, 5), r(7, 9)), set(r(7, 8), r(3, 5), r(1, 3), r(8, 9), r(2, 4)).ranges());
    }

    @Test
    void minusCutsHolesAndEnds() {
        assertEquals(List.of(r(0, 2), r(4, 6), r(9, 10)), set(r(0, 10)).minus(set(r(2, 4), r(6, 9), r(12, 13))).ranges());
        assertEquals(List.of(), set(r(3, 5)).minus(set(r(0, 10))).ranges());
        assertEquals(List.of(r(0, 1), r(5, 6)), set(r(0, 2), r(4, 6)).minus(set(r(1, 5))).ranges());
    }

    @Test
    void intersectAndUnion() {
        assertEquals(List.of(r(2, 3), r(5, 6)), set(r(0, 3), r(5, 8)).intersect(set(r(2, 6))).ranges());
        assertEquals(List.of(r(0, 8)), set(r(0, 3), r(5, 8)).union(set(r(2, 6))).ranges());
    }

    @Test
    void pageRangesMustBePageAligned() {
        assertThrows(IllegalArgumentException.class, () -> new PageRange(1, P));
        assertThrows(IllegalArgumentException.class, () -> new PageRange(0, 0));
        assertEquals(3, r(1, 4).pages());
    }

    @Test
    void dirtyPagesIncludeNewRangesAndCountBytes() {
        DirtyPages d = DirtyPages.of(List.of(r(1, 2), r(2, 3)), List.of(r(10, 12)), List.of(r(20, 21)));
        assertEquals(List.of(r(1, 3), r(10, 12)), d.ranges());
        assertEquals(List.of(r(10, 12)), d.newRanges());
        assertEquals(List.of(r(20, 21)), d.unmappedRanges());
        assertEquals(4, d.pageCount());
        assertEquals(4 * P, d.bytes());
    }
}
