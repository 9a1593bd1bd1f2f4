package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.agent.ptrace.TracerThread;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each tracker against a real program that writes exactly the pages it is told to. */
@Timeout(60)
class DirtyTrackerProgramTest {
    private static final int PAGES = 64;
    private static volatile String softDirtyVerdict;

    private final TracerThread tracer = new TracerThread("dirty-test-tracer");
    private DirtierProgram program;

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (program != null) {
                program.close();
            }
        } finally {
            tracer.close();
        }
    }

    /** soft-dirty only where the kernel has it (not on this project's test machines). */
    private static void assumeWorks(String tracker) {
        if (tracker.equals(DirtyTrackers.SOFT_DIRTY)) {
            if (softDirtyVerdict == null) {
                DirtyTrackers.Probe p = DirtyTrackers.probe(DirtyTrackers.SOFT_DIRTY);
                softDirtyVerdict = p.works() ? "" : p.detail();
            }
            assumeTrue(softDirtyVerdict.isEmpty(), "soft-dirty unsupported: " + softDirtyVerdict);
        }
    }

    private DirtyTracker open(String name, String... programArgs) throws Exception {
        assumeWorks(name);
        program = DirtierProgram.start(PAGES, programArgs);
        DirtyTracker t = DirtyTrackers.open(name, program.pid, tracer);
        t.start();
        return t;
    }

    private static Set<Integer> set(int... pages) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int p : pages) {
            s.add(p);
        }
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void reportsExactlyTheWrittenPagesRoundAfterRound(String name) throws Exception {
        try (DirtyTracker t = open(name)) {
            assertEquals(name, t.name());
            int[][] rounds = {{1, 5, 9}, {}, {0, 63}, {5}, {10, 11, 12, 13, 40}, {}};
            for (int[] round : rounds) {
                if (round.length > 0) {
                    program.write(round);
                }
                DirtyPages d = t.collect();
                assertEquals(set(round), program.arenaPages(d), "round " + java.util.Arrays.toString(round) + ": " + d);
                assertTrue(d.pageCount() >= round.length);
                assertEquals(d.pageCount() * PageRange.PAGE, d.bytes());
            }
            program.write(2, 3);
            program.write(3, 4);   // two writes to page 3 in one round count once
            assertEquals(set(2, 3, 4), program.arenaPages(t.collect()));
        }
    }

    /**
     * Pages dropped with MADV_DONTNEED read as zeros afterwards, yet nothing wrote them. Pre-copy
     * must still re-send them (as zeros): this records which trackers see the drop themselves.
     */
    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void pagesDroppedWithDontneedAreReported(String name) throws Exception {
        try (DirtyTracker t = open(name)) {
            t.collect();
            program.command("z 7 2");
            DirtyPages d = t.collect();
            System.out.println(name + " reports after MADV_DONTNEED of pages 7, 8: " + program.arenaPages(d));
            assertEquals(set(7, 8), program.arenaPages(d), d::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void newMappingsAndHeapGrowthAreReportedWholeOnceThenTracked(String name) throws Exception {
        try (DirtyTracker t = open(name)) {
            long mapped = Long.parseLong(program.command("m 8"), 16);
            long heap = Long.parseLong(program.command("b 4"), 16);
            DirtyPages d = t.collect();
            assertCovers(d.newRanges(), new PageRange(mapped, 8 * PageRange.PAGE));
            assertCovers(d.newRanges(), PageRange.between(pageUp(heap), pageUp(heap + 4 * PageRange.PAGE)));
            assertCovers(d.ranges(), new PageRange(mapped, 8 * PageRange.PAGE));
            assertEquals(Set.of(), program.arenaPages(d));

            DirtyPages quiet = t.collect();
            assertTrue(quiet.newRanges().stream().noneMatch(r -> r.contains(mapped)), quiet.toString());
            assertTrue(quiet.ranges().stream().noneMatch(r -> r.contains(mapped)), quiet.toString());

            program.command("u " + Long.toHexString(mapped) + " 8");
            DirtyPages after = t.collect();
            assertCovers(after.unmappedRanges(), new PageRange(mapped, 8 * PageRange.PAGE));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void anArenaMovedByMremapIsFollowed(String name) throws Exception {
        try (DirtyTracker t = open(name)) {
            long old = program.arena();
            long moved = program.moveArena();
            DirtyPages d = t.collect();
            assertCovers(d.newRanges(), new PageRange(moved, PAGES * PageRange.PAGE));
            assertCovers(d.unmappedRanges(), new PageRange(old, PAGES * PageRange.PAGE));
            assertEquals(Set.of(), program.arenaPages(t.collect()));
            program.write(7, 8);
            assertEquals(set(7, 8), program.arenaPages(t.collect()));
        }
    }

    /** uffd-wp: the maps look the same but the area is new and unregistered: the scan's EPERM path. */
    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void aMappingReplacedInPlaceIsReportedAndTrackedAgain(String name) throws Exception {
        try (DirtyTracker t = open(name)) {
            program.command("F 10 10");
            Set<Integer> replaced = set(10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
            assertEquals(replaced, program.arenaPages(t.collect()));
            assertEquals(Set.of(), program.arenaPages(t.collect()));
            program.write(12, 40);
            assertEquals(set(12, 40), program.arenaPages(t.collect()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash"})
    void tracksAProgramRunningAsNobody(String name) throws Exception {
        try (DirtyTracker t = open(name, "--uid", "65534")) {
            assertTrue(program.status("Uid").matches("Uid:\\s+65534\\s+65534\\s+65534\\s+65534"), program.status("Uid"));
            program.write(3, 30);
            assertEquals(set(3, 30), program.arenaPages(t.collect()));
            program.write(31);
            assertEquals(set(31), program.arenaPages(t.collect()));
            t.close();
            program.write(1, 2);
            assertEquals("bye ok exit 0", program.quit());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd-wp", "hash", "soft-dirty"})
    void closeLeavesTheProgramRunningAndUnharmed(String name) throws Exception {
        DirtyTracker t = open(name);
        program.write(1);
        t.collect();
        t.close();
        t.close();   // twice is harmless
        Path proc = Path.of("/proc", Integer.toString(program.pid));
        String smaps = Files.readString(proc.resolve("smaps"));
        assertFalse(smaps.lines().anyMatch(l -> l.startsWith("VmFlags:") && List.of(l.split(" ")).contains("uw")),
                "write-protect registrations left behind");
        try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
            assertTrue(fds.map(DirtyTrackerProgramTest::linkOf).noneMatch(l -> l.contains("userfaultfd")),
                    "a userfaultfd left in the program");
        }
        program.write(1, 2, 3, 63);
        program.command("m 2");
        assertEquals("bye ok exit 0", program.quit());
    }

    /**
     * Where the kernel lacks soft-dirty bits the tracker still runs all its mechanics (every
     * thread stopped per round, clear_refs, pagemap, the maps diff) without harming the program.
     */
    @Test
    void softDirtyMechanicsRunEverywhere() throws Exception {
        program = DirtierProgram.start(PAGES);
        try (DirtyTracker t = DirtyTrackers.open(DirtyTrackers.SOFT_DIRTY, program.pid, tracer)) {
            t.start();
            program.write(4);
            long mapped = Long.parseLong(program.command("m 3"), 16);
            DirtyPages d = t.collect();
            assertCovers(d.newRanges(), new PageRange(mapped, 3 * PageRange.PAGE));
            assertTrue(program.arenaPages(d).equals(Set.of()) || program.arenaPages(d).equals(set(4)), d.toString());
        }
        program.write(5);
        assertEquals("bye ok exit 0", program.quit());
    }

    @Test
    void uffdWpIsReallyInUseWhileTracking() throws Exception {
        try (DirtyTracker t = open(DirtyTrackers.UFFD_WP)) {
            String smaps = Files.readString(Path.of("/proc", Integer.toString(program.pid), "smaps"));
            assertTrue(smaps.contains(" uw"), "no area registered for write-protection");
        }
    }

    private static String linkOf(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (Exception e) {
            return "";
        }
    }

    private static long pageUp(long a) {
        return (a + PageRange.PAGE - 1) & -PageRange.PAGE;
    }

    private static void assertCovers(List<PageRange> ranges, PageRange wanted) {
        if (wanted.length() <= 0) {
            return;
        }
        RangeSet missing = RangeSet.of(List.of(wanted)).minus(RangeSet.of(ranges));
        assertTrue(missing.isEmpty(), wanted + " not covered by " + ranges);
    }
}
