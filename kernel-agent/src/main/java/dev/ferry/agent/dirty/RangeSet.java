package dev.ferry.agent.dirty;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable set of addresses kept as sorted, disjoint, non-adjacent page ranges: what a
 * tracker covers, what appeared or vanished between two readings of the maps. User-space
 * addresses are below 2^63, so plain signed comparisons are right.
 */
public final class RangeSet {
    public static final RangeSet EMPTY = new RangeSet(List.of());

    private final List<PageRange> ranges;

    private RangeSet(List<PageRange> normalised) {
        this.ranges = List.copyOf(normalised);
    }

    /** Any ranges, overlapping or touching ones merged. */
    public static RangeSet of(List<PageRange> any) {
        List<PageRange> sorted = new ArrayList<>(any);
        sorted.sort(Comparator.comparingLong(PageRange::start));
        List<PageRange> out = new ArrayList<>();
        long start = -1, end = -1;
        for (PageRange r : sorted) {
            if (start >= 0 && r.start() <= end) {
                end = Math.max(end, r.end());
                continue;
            }
            if (start >= 0) {
                out.add(PageRange.between(start, end));
            }
            start = r.start();
            end = r.end();
        }
        if (start >= 0) {
            out.add(PageRange.between(start, end));
        }
        return new RangeSet(out);
    }

    public List<PageRange> ranges() {
        return ranges;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public long bytes() {
        return ranges.stream().mapToLong(PageRange::length).sum();
    }

    public RangeSet union(RangeSet other) {
        List<PageRange> all = new ArrayList<>(ranges);
        all.addAll(other.ranges);
        return of(all);
    }

    public RangeSet intersect(RangeSet other) {
        List<PageRange> out = new ArrayList<>();
        int i = 0, j = 0;
        while (i < ranges.size() && j < other.ranges.size()) {
            PageRange a = ranges.get(i), b = other.ranges.get(j);
            long start = Math.max(a.start(), b.start()), end = Math.min(a.end(), b.end());
            if (start < end) {
                out.add(PageRange.between(start, end));
            }
            if (a.end() < b.end()) {
                i++;
            } else {
                j++;
            }
        }
        return new RangeSet(out);
    }

    public RangeSet minus(RangeSet other) {
        List<PageRange> out = new ArrayList<>();
        int j = 0;
        for (PageRange a : ranges) {
            long cursor = a.start();
            while (j < other.ranges.size() && other.ranges.get(j).end() <= cursor) {
                j++;
            }
            for (int k = j; k < other.ranges.size() && other.ranges.get(k).start() < a.end(); k++) {
                PageRange b = other.ranges.get(k);
                if (b.start() > cursor) {
                    out.add(PageRange.between(cursor, b.start()));
                }
                cursor = Math.max(cursor, b.end());
            }
            if (cursor < a.end()) {
                out.add(PageRange.between(cursor, a.end()));
            }
        }
        return new RangeSet(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeSet r && r.ranges.equals(ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode();
    }

    @Override
    public String toString() {
        return ranges.toString();
    }
}
