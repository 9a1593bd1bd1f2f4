package dev.ferry.agent.dirty;

import java.nio.ByteBuffer;

/**
 * A 64-bit hash per page, in four independent lanes of xxHash64's round (multiply, rotate,
 * multiply) so the CPU overlaps them: about as fast as the memory can be read. Two values are
 * reserved and never produced by {@link #ofPage}: {@link #ABSENT} (no page in a file mapping,
 * which reads as the file) and {@link #UNKNOWN} (could not be read: differs from everything,
 * even itself). {@link #ZERO} is the hash of a page of zeros: what an anonymous page that is not
 * there reads as, and what a zero run of a pre-copy round puts at the destination.
 */
final class PageHashes {
    static final long ABSENT = 0, UNKNOWN = 1;

    private static final long P1 = 0x9E3779B185EBCA87L, P2 = 0xC2B2AE3D27D4EB4FL, P3 = 0x165667B19E3779F9L;
    private static final int PAGE = (int) PageRange.PAGE;
    static final long ZERO = ofPage(ByteBuffer.allocate(PAGE), 0);

    private PageHashes() {}

    /** The hash of the page at {@code offset} of {@code b} (native byte order, 4096 bytes). */
    static long ofPage(ByteBuffer b, int offset) {
        long h0 = P1 + P2, h1 = P2, h2 = 0, h3 = -P1;
        for (int i = offset, end = offset + PAGE; i < end; i += 32) {
            h0 = Long.rotateLeft(h0 + b.getLong(i) * P2, 31) * P1;
            h1 = Long.rotateLeft(h1 + b.getLong(i + 8) * P2, 31) * P1;
            h2 = Long.rotateLeft(h2 + b.getLong(i + 16) * P2, 31) * P1;
            h3 = Long.rotateLeft(h3 + b.getLong(i + 24) * P2, 31) * P1;
        }
        long h = Long.rotateLeft(h0, 1) + Long.rotateLeft(h1, 7) + Long.rotateLeft(h2, 12) + Long.rotateLeft(h3, 18);
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h == ABSENT || h == UNKNOWN ? 2 : h;
    }

    /** A swapped-out page is identified by its swap entry: its content cannot change while there. */
    static long ofSwapEntry(long pagemapEntry) {
        long h = pagemapEntry * P1;
        return h == ABSENT || h == UNKNOWN ? 2 : h;
    }

    static boolean same(long a, long b) {
        return a == b && a != UNKNOWN;
    }
}
