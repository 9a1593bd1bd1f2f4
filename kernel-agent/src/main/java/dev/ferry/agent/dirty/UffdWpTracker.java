package dev.ferry.agent.dirty;

import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.linux.jna.DirtyCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Dirty tracking with userfaultfd write-protection (Linux 6.7+), needing no soft-dirty bits
 * and no help from the program: a userfaultfd is injected into the target and taken over,
 * every writable private mapping is registered in async write-protect mode (writes are never
 * blocked, the kernel only clears the page's protection), and PAGEMAP_SCAN on the target's
 * pagemap returns the pages written since the previous scan and protects them again.
 *
 * <p>Mappings created later are not registered by the kernel: each round diffs the maps,
 * registers what is new through the taken fd and reports it whole once. A mapping that
 * replaced a registered one between the diff and the scan makes the scan fail with EPERM; its
 * areas are then found in smaps (no "uw" flag), registered, and the scan repeated.
 */
final class UffdWpTracker implements DirtyTracker {
    private static final int SCAN_ATTEMPTS = 5;

    private final int pid;
    private final TargetStop stop;
    private final MappingDiff diff;
    private Pagemap pagemap;
    private PagemapScan scan;
    private UserfaultFd uffd;

    UffdWpTracker(int pid, TargetStop stop) {
        this.pid = pid;
        this.stop = stop;
        this.diff = new MappingDiff(pid);
    }

    @Override
    public boolean reportsDroppedPages() {
        return true;   // DirtyTrackerProgramTest.pagesDroppedWithDontneedAreReported
    }

    @Override
    public String name() {
        return DirtyTrackers.UFFD_WP;
    }

    @Override
    public void start() throws IOException {
        if (uffd != null) {
            throw new IllegalStateException("already started");
        }
        pagemap = new Pagemap(pid);
        scan = new PagemapScan(pagemap.fd());
        try {
            uffd = UserfaultFd.takeFrom(pid, stop);
            collect();   // registers everything and protects every page: writes from now on count
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public DirtyPages collect() throws IOException {
        if (uffd == null) {
            throw new IllegalStateException("not started");
        }
        List<PageRange> written = new ArrayList<>();
        RangeSet fresh = RangeSet.EMPTY, unmapped = RangeSet.EMPTY;
        for (int attempt = 1; ; attempt++) {
            MappingDiff.Round round = diff.next();
            fresh = fresh.union(register(round.areas(), round.fresh()));
            unmapped = unmapped.union(round.unmapped());
            int failed = scanAll(written);
            if (failed == 0) {
                break;
            }
            if (failed != DirtyCalls.EPERM || attempt == SCAN_ATTEMPTS) {
                throw new IOException("PAGEMAP_SCAN of process " + pid + " failed: errno " + failed
                        + " (attempt " + attempt + ")");
            }
            fresh = fresh.union(repairRegistrations());
        }
        return new DirtyPages(RangeSet.of(written), fresh, unmapped.minus(diff.tracked()));
    }

    /** Registers the new parts of every area, one area at a time; returns every new range. */
    private RangeSet register(List<VmArea> areas, RangeSet fresh) {
        if (fresh.isEmpty()) {
            return fresh;
        }
        List<PageRange> refused = new ArrayList<>();
        for (VmArea a : areas) {
            if (!MappingDiff.isCandidate(a)) {
                continue;
            }
            RangeSet area = RangeSet.of(List.of(PageRange.between(a.start(), a.end())));
            for (PageRange piece : area.intersect(fresh).ranges()) {
                if (uffd.register(piece) != 0) {
                    refused.add(piece);   // e.g. EBUSY, the program's own userfaultfd: reported whole each round
                }
            }
        }
        diff.forget(RangeSet.of(refused));
        return fresh;
    }

    /** Scans every tracked range; returns 0 or the errno of the first failed scan. */
    private int scanAll(List<PageRange> written) {
        for (PageRange r : diff.tracked().ranges()) {
            try {
                scan.writtenAndReprotect(r, written);
            } catch (PagemapScan.ScanFailed e) {
                return e.errno;
            }
        }
        return 0;
    }

    /**
     * After an EPERM: tracked addresses now covered by an area without the "uw" flag were
     * unmapped and mapped again behind our back. Registers the writable ones; all are new.
     */
    private RangeSet repairRegistrations() throws IOException {
        List<VmArea> areas = VmArea.parseSmaps(Files.readString(Path.of("/proc", Integer.toString(pid), "smaps")));
        List<PageRange> replaced = new ArrayList<>();
        List<VmArea> candidates = new ArrayList<>();
        for (VmArea a : areas) {
            if (a.vmFlags().contains("uw") || a.path().equals("[vsyscall]")) {
                continue;
            }
            RangeSet inTracked = RangeSet.of(List.of(PageRange.between(a.start(), a.end()))).intersect(diff.tracked());
            if (!inTracked.isEmpty()) {
                replaced.addAll(inTracked.ranges());
                if (MappingDiff.isCandidate(a)) {
                    candidates.add(a);
                }
            }
        }
        RangeSet again = RangeSet.of(replaced);
        diff.forget(again);
        RangeSet writable = MappingDiff.candidates(candidates).intersect(again);
        diff.adopt(writable);
        register(candidates, writable);
        return again;
    }

    @Override
    public void close() {
        if (uffd != null) {
            try {
                for (VmArea a : diff.readAreas()) {
                    RangeSet area = RangeSet.of(List.of(PageRange.between(a.start(), a.end())));
                    for (PageRange piece : area.intersect(diff.tracked()).ranges()) {
                        uffd.unregister(piece);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the process is gone: closing the fd below releases whatever is left
            }
            uffd.close();
            uffd = null;
        }
        if (pagemap != null) {
            pagemap.close();
            pagemap = null;
        }
    }
}
