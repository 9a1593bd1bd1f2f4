package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.VmArea;
import java.nio.LongBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Soft-dirty and maps parsing on fixtures: the soft-dirty tracker cannot run on this kernel. */
class DirtyPagemapParsingTest {
    private static final long P = PageRange.PAGE;
    private static final long BASE = 0x7f0000000000L;
    /** Entries as the kernel writes them: present + pfn, some soft-dirty, one swapped, two absent. */
    private static final long[] FIXTURE = {
        0x8180000000012345L,   // present, soft-dirty, exclusive
        0x8180000000012346L,   // present, soft-dirty
        0x8100000000012347L,   // present, clean (exclusive only)
        0x0000000000000000L,   // never touched
        0x4080000000000a1eL,   // swapped, soft-dirty
        0xa100000000012348L,   // present, file/shared, clean
        0x8080000000012349L,   // present, soft-dirty
        0x0080000000000000L,   // absent but soft-dirty (a page dropped after a write)
    };

    @Test
    void softDirtyRunsFromPagemapEntries() {
        List<PageRange> dirty = Pagemap.runs(BASE, LongBuffer.wrap(FIXTURE), Pagemap::softDirty);
        assertEquals(List.of(PageRange.between(BASE, BASE + 2 * P), new PageRange(BASE + 4 * P, P),
                PageRange.between(BASE + 6 * P, BASE + 8 * P)), dirty);
    }

    @Test
    void presentAndSwappedBits() {
        assertTrue(Pagemap.present(FIXTURE[0]));
        assertFalse(Pagemap.present(FIXTURE[3]));
        assertTrue(Pagemap.swapped(FIXTURE[4]));
        assertFalse(Pagemap.present(FIXTURE[4]));
        assertEquals(List.of(PageRange.between(BASE, BASE + 3 * P), PageRange.between(BASE + 5 * P, BASE + 7 * P)),
                Pagemap.runs(BASE, LongBuffer.wrap(FIXTURE), Pagemap::present));
    }

    @Test
    void onlyWritablePrivateNonSpecialAreasAreTracked() {
        String maps = """
                55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 131 /usr/bin/prog
                55d0c0a02000-55d0c0a03000 rw-p 00002000 08:01 131 /usr/bin/prog
                55d0c0a03000-55d0c0a05000 rw-p 00000000 00:00 0 [heap]
                7f0000000000-7f0000010000 rw-s 00000000 00:01 77 /dev/shm/x
                7f0000010000-7f0000020000 rw-p 00000000 00:00 0
                7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
                7ffd00100000-7ffd00104000 r--p 00000000 00:00 0 [vvar]
                7ffd00104000-7ffd00106000 r-xp 00000000 00:00 0 [vdso]
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
                """;
        List<VmArea> areas = VmArea.parseSmaps(maps);
        assertEquals(List.of(PageRange.between(0x55d0c0a02000L, 0x55d0c0a05000L),
                PageRange.between(0x7f0000010000L, 0x7f0000020000L),
                PageRange.between(0x7ffd00000000L, 0x7ffd00021000L)), MappingDiff.candidates(areas).ranges());
        assertEquals(List.of(PageRange.between(0x55d0c0a00000L, 0x55d0c0a05000L),
                PageRange.between(0x7f0000000000L, 0x7f0000020000L),
                PageRange.between(0x7ffd00000000L, 0x7ffd00021000L),
                PageRange.between(0x7ffd00100000L, 0x7ffd00106000L)), MappingDiff.mapped(areas).ranges());
    }
}
