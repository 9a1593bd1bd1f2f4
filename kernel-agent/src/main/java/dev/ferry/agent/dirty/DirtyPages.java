package dev.ferry.agent.dirty;

import java.util.List;

/**
 * The answer of one {@link DirtyTracker#collect()}: every page that may have changed since the
 * previous collect ({@link #ranges()}, sorted and merged). Mappings that appeared since then are
 * in it whole and also listed in {@link #newRanges()} (the tracker knows nothing about their
 * past); {@link #unmappedRanges()} are tracked addresses that are no longer mapped at all, so a
 * copier can drop what it holds for them.
 */
public final class DirtyPages {
    private final RangeSet dirty;
    private final RangeSet fresh;
    private final RangeSet unmapped;

    DirtyPages(RangeSet written, RangeSet fresh, RangeSet unmapped) {
        this.dirty = written.union(fresh);
        this.fresh = fresh;
        this.unmapped = unmapped;
    }

    public static DirtyPages of(List<PageRange> written, List<PageRange> fresh, List<PageRange> unmapped) {
        return new DirtyPages(RangeSet.of(written), RangeSet.of(fresh), RangeSet.of(unmapped));
    }

    public List<PageRange> ranges() {
        return dirty.ranges();
    }

    public List<PageRange> newRanges() {
        return fresh.ranges();
    }

    public List<PageRange> unmappedRanges() {
        return unmapped.ranges();
    }

    public long bytes() {
        return dirty.bytes();
    }

    public long pageCount() {
        return bytes() / PageRange.PAGE;
    }

    @Override
    public String toString() {
        return pageCount() + " dirty pages " + dirty + ", new " + fresh + ", unmapped " + unmapped;
    }
}
