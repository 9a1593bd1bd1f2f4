package dev.ferry.agent.dirty;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which pages of a process are neither present nor swapped, found by the kernel's
 * PAGEMAP_SCAN walk (Linux 6.7+). Pre-copy's last round asks it about every page it sent
 * earlier: reading pagemap for a 1 GiB process costs tens of milliseconds, this walk about one.
 */
public final class AbsentPages {
    private AbsentPages() {}

    /** The absent pages of {@code ranges}, or empty when this kernel has no PAGEMAP_SCAN. */
    public static Optional<RangeSet> of(int pid, List<PageRange> ranges) throws IOException {
        try (Pagemap pagemap = new Pagemap(pid)) {
            PagemapScan scan = new PagemapScan(pagemap.fd());
            List<PageRange> absent = new ArrayList<>();
            for (PageRange r : ranges) {
                try {
                    scan.absent(r, absent);
                } catch (PagemapScan.ScanFailed e) {
                    if (e.errno == 25 || e.errno == 22) {   // ENOTTY, EINVAL: no PAGEMAP_SCAN here
                        return Optional.empty();
                    }
                    throw new IOException("PAGEMAP_SCAN of process " + pid + ": errno " + e.errno, e);
                }
            }
            return Optional.of(RangeSet.of(absent));
        }
    }
}
