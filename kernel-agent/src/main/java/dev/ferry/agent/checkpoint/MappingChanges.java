package dev.ferry.agent.checkpoint;

import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.proto.v1.Mapping;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What changed in a process' mappings between two pre-copy rounds, decided the same way on
 * both sides of a migration: the destination keeps the pages it already holds exactly where an
 * old and a new mapping are of the same kind, and maps everything else afresh; the source
 * re-sends every page of what the destination maps afresh. Sharing this one rule is what makes
 * a layout change (a heap that grew, a file mapped over anonymous memory) lose nothing, whatever
 * the dirty tracker noticed.
 */
public final class MappingChanges {
    private MappingChanges() {}

    /** Mappings a rebuild creates itself; the kernel provides the vdso family and vsyscall. */
    public static boolean isRegular(Mapping m) {
        return m.getSpecial() == Mapping.Special.NONE || m.getSpecial() == Mapping.Special.HEAP
                || m.getSpecial() == Mapping.Special.STACK;
    }

    /** Rebuilt as anonymous memory: no file, or a file whose content is carried. */
    public static boolean anonymous(Mapping m) {
        return m.getPath().isEmpty() || m.getContentCarried();
    }

    /**
     * Whether pages written for {@code a} stay valid where {@code b} now lies. Only what both
     * maps and smaps show counts (not VmFlags such as grows-down): a round's layout comes from
     * maps, the final one from the capture.
     */
    public static boolean sameKind(Mapping a, Mapping b) {
        if (a.getShared() != b.getShared()) {
            return false;
        }
        if (anonymous(a) || anonymous(b)) {
            return anonymous(a) && anonymous(b) && !a.getShared();
        }
        return a.getPath().equals(b.getPath()) && a.getOffset() - a.getStart() == b.getOffset() - b.getStart()
                && (!a.getShared() || a.getProt() == b.getProt());
    }

    /** Addresses where a regular mapping of {@code before} and one of {@code after} are of the same kind. */
    public static RangeSet kept(List<Mapping> before, List<Mapping> after) {
        List<Mapping> a = regularSorted(before), b = regularSorted(after);
        List<PageRange> out = new ArrayList<>();
        int i = 0, j = 0;
        while (i < a.size() && j < b.size()) {
            Mapping x = a.get(i), y = b.get(j);
            long start = Math.max(x.getStart(), y.getStart()), end = Math.min(x.getEnd(), y.getEnd());
            if (start < end && sameKind(x, y)) {
                out.add(PageRange.between(start, end));
            }
            if (x.getEnd() < y.getEnd()) {
                i++;
            } else {
                j++;
            }
        }
        return RangeSet.of(out);
    }

    /** Addresses of {@code after}'s regular mappings that the destination maps afresh. */
    public static RangeSet remapped(List<Mapping> before, List<Mapping> after) {
        return ranges(after).minus(kept(before, after));
    }

    /** The addresses of the regular mappings of {@code mappings}. */
    public static RangeSet ranges(List<Mapping> mappings) {
        List<PageRange> out = new ArrayList<>();
        for (Mapping m : mappings) {
            if (isRegular(m)) {
                out.add(PageRange.between(m.getStart(), m.getEnd()));
            }
        }
        return RangeSet.of(out);
    }

    static List<Mapping> regularSorted(List<Mapping> mappings) {
        List<Mapping> out = new ArrayList<>();
        for (Mapping m : mappings) {
            if (isRegular(m)) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparingLong(Mapping::getStart));
        return out;
    }
}
