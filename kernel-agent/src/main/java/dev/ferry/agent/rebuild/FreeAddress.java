package dev.ferry.agent.rebuild;

import java.util.List;

/** Finds page-aligned address ranges that are free in every given layout. */
final class FreeAddress {
    private static final long FIRST = 0x10000000L, STEP = 0x1000000L, LAST = 0x7f0000000000L;

    private FreeAddress() {}

    /** {@code taken} holds [start, end) pairs. */
    static long find(long size, List<long[]> taken) throws RebuildException {
        for (long at = FIRST; at + size < LAST; at += STEP) {
            boolean free = true;
            for (long[] r : taken) {
                if (at < r[1] && r[0] < at + size) {
                    free = false;
                    break;
                }
            }
            if (free) {
                return at;
            }
        }
        throw new RebuildException("no free address range of " + size + " bytes in both layouts");
    }
}
