package dev.ferry.agent.dirty;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ferry.agent.linux.jna.DirtyCalls;
import java.util.List;

/**
 * The PAGEMAP_SCAN ioctl (Linux 6.7+) asking for the pages written since they were last
 * write-protected, and write-protecting them again in the same walk (PM_SCAN_WP_MATCHING).
 * PM_SCAN_CHECK_WPASYNC makes the walk fail with EPERM on an area that is not registered
 * (instead of silently skipping it, as WP_MATCHING alone does).
 *
 * <p>The region vector is zeroed before each call: when the walk fails part-way, the regions
 * it already re-protected have still been copied out (the count is lost with the error), and
 * they must be reported, or their writes would be lost for good.
 */
final class PagemapScan {
    private static final DirtyCalls C = DirtyCalls.INSTANCE;
    private static final int REGION_BYTES = 24;
    private static final int REGIONS = 4096;

    private final int pagemapFd;
    private final Memory arg = new Memory(96);
    private final Memory vec = new Memory((long) REGIONS * REGION_BYTES);

    /** A scan that failed with {@code errno}, after reporting what it saw before the failure. */
    static final class ScanFailed extends Exception {
        final int errno;

        ScanFailed(int errno) {
            super("PAGEMAP_SCAN failed: errno " + errno);
            this.errno = errno;
        }
    }

    PagemapScan(int pagemapFd) {
        this.pagemapFd = pagemapFd;
    }

    /** Adds the written pages of {@code range} to {@code written} and re-protects them. */
    void writtenAndReprotect(PageRange range, List<PageRange> written) throws ScanFailed {
        long start = range.start();
        while (start < range.end()) {
            vec.clear();
            arg.clear();
            arg.setLong(0, 96);
            arg.setLong(8, DirtyCalls.PM_SCAN_WP_MATCHING | DirtyCalls.PM_SCAN_CHECK_WPASYNC);
            arg.setLong(16, start);
            arg.setLong(24, range.end());
            arg.setLong(40, Pointer.nativeValue(vec));
            arg.setLong(48, REGIONS);
            arg.setLong(72, DirtyCalls.PAGE_IS_WRITTEN);   // category_mask
            arg.setLong(88, DirtyCalls.PAGE_IS_WRITTEN);   // return_mask
            int filled;
            try {
                filled = C.ioctl(pagemapFd, DirtyCalls.PAGEMAP_SCAN, arg);
            } catch (LastErrorException e) {
                collect(REGIONS, written);   // up to the first empty slot
                throw new ScanFailed(e.getErrorCode());
            }
            collect(filled, written);
            long walkEnd = arg.getLong(32);
            if (walkEnd <= start) {
                return;   // the kernel made no progress: nothing more to see
            }
            start = walkEnd;
        }
    }

    /**
     * Adds the pages of {@code range} that are neither present nor swapped (never touched, or
     * dropped with MADV_DONTNEED) to {@code absent}: one walk in the kernel instead of reading
     * eight bytes of pagemap per page. Protects nothing.
     */
    void absent(PageRange range, List<PageRange> absent) throws ScanFailed {
        long notThere = DirtyCalls.PAGE_IS_PRESENT | DirtyCalls.PAGE_IS_SWAPPED;
        long start = range.start();
        while (start < range.end()) {
            vec.clear();
            arg.clear();
            arg.setLong(0, 96);
            arg.setLong(16, start);
            arg.setLong(24, range.end());
            arg.setLong(40, Pointer.nativeValue(vec));
            arg.setLong(48, REGIONS);
            arg.setLong(64, notThere);   // category_inverted
            arg.setLong(72, notThere);   // category_mask: both bits clear
            arg.setLong(88, notThere);   // return_mask
            int filled;
            try {
                filled = C.ioctl(pagemapFd, DirtyCalls.PAGEMAP_SCAN, arg);
            } catch (LastErrorException e) {
                throw new ScanFailed(e.getErrorCode());
            }
            collect(filled, absent);
            long walkEnd = arg.getLong(32);
            if (walkEnd <= start) {
                return;
            }
            start = walkEnd;
        }
    }

    private void collect(int count, List<PageRange> written) {
        for (int i = 0; i < count; i++) {
            long s = vec.getLong((long) i * REGION_BYTES), e = vec.getLong((long) i * REGION_BYTES + 8);
            if (e <= s) {
                return;
            }
            written.add(PageRange.between(s, e));
        }
    }
}
