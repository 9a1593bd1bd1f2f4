package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.PageRound;
import dev.ferry.agent.checkpoint.PageRounds;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.PageBatch;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hash tracker driven as pre-copy drives it: collect, read the round with {@link PageRounds},
 * hand the round to {@link DirtyTracker#sent}, collect again. The dirtier program changes pages
 * only on command, and each step waits until it is idle, so every step is deterministic.
 */
@Timeout(60)
class HashTrackerRoundsTest {
    private static final int PAGES = 64;
    private static final long A = 0xa11ceL, X = 0xbadL;

    private final TracerThread tracer = new TracerThread("hash-rounds-test-tracer");
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

    private DirtyTracker startHash() throws Exception {
        DirtyTracker t = DirtyTrackers.open(DirtyTrackers.HASH, program.pid, tracer);
        t.start();
        return t;
    }

    private void command(String command) throws Exception {
        program.command(command);
        program.awaitIdle();
    }

    /**
     * Page 5 is A at the collect, X when the round reads (and sends) it, A again at the next
     * collect: the destination holds X, so that collect must report the page. A second tracker
     * that is never handed the rounds (how the tracker used to work) misses it, which proves
     * the scenario is the trap.
     */
    @Test
    void aPageChangedBackAfterTheRoundReadItIsReported() throws Exception {
        program = DirtierProgram.start(PAGES);
        long page5 = program.arena() + 5 * PageRange.PAGE;
        try (DirtyTracker tracker = startHash(); DirtyTracker notHandedRounds = startHash();
                PageRounds rounds = new PageRounds(program.pid, program.pid)) {
            program.awaitIdle();
            tracker.sent(rounds.first().batches());

            command("s 5 " + Long.toHexString(A));
            DirtyPages atT1 = tracker.collect();
            assertEquals(Set.of(5), program.arenaPages(atT1), atT1.toString());
            assertEquals(Set.of(5), program.arenaPages(notHandedRounds.collect()));

            command("s 5 " + Long.toHexString(X));
            PageRound round = rounds.dirty(atT1);
            assertEquals(X, firstWord(round, page5), "the round did not read X");
            tracker.sent(round.batches());

            command("s 5 " + Long.toHexString(A));
            DirtyPages atT3 = tracker.collect();
            assertEquals(Set.of(5), program.arenaPages(atT3), "the destination holds X, the program A: " + atT3);
            assertEquals(Set.of(), program.arenaPages(notHandedRounds.collect()),
                    "without sent() the page should go unnoticed (else this test does not show the trap)");

            PageRound again = rounds.dirty(atT3);
            assertEquals(A, firstWord(again, page5));
            tracker.sent(again.batches());
            assertEquals(List.of(), tracker.collect().ranges(), "A was sent: nothing left to send");
        }
        assertEquals("bye ok exit 0", program.quit());
    }

    /**
     * With no write in between, collect after a round handed to sent() reports nothing: after
     * round 1, and after rounds that read fresh mappings, heap growth, dropped pages (they read
     * as zeros) and nothing at all for an unmapped area. A page of zeros that is dropped (no
     * longer there, but still reading as zeros) does not count as changed.
     */
    @Test
    void aRoundHandedToSentLeavesNothingToReportWithoutWrites() throws Exception {
        program = DirtierProgram.start(PAGES);
        try (DirtyTracker tracker = startHash(); PageRounds rounds = new PageRounds(program.pid, program.pid)) {
            program.awaitIdle();
            tracker.sent(rounds.first().batches());
            assertQuiet(tracker.collect());

            long mapped = Long.parseLong(program.command("m 8"), 16);
            long heap = Long.parseLong(program.command("b 4"), 16);
            command("z 20 3");
            command("w 30");
            DirtyPages d = tracker.collect();
            assertEquals(Set.of(20, 21, 22, 30), program.arenaPages(d), d.toString());
            assertTrue(d.newRanges().stream().anyMatch(r -> r.contains(mapped)), d.toString());
            assertTrue(d.ranges().stream().anyMatch(r -> r.contains(heap)), d.toString());
            PageRound round = rounds.dirty(d);
            assertEquals(0, firstWord(round, program.arena() + 21 * PageRange.PAGE), "a dropped page reads as zeros");
            tracker.sent(round.batches());
            assertQuiet(tracker.collect());

            // the round left zeros there and the destination holds zeros: dropping them again changes nothing
            command("z 20 3");
            d = tracker.collect();
            assertEquals(Set.of(), program.arenaPages(d), "an anonymous page that is not there reads as zeros: " + d);

            command("u " + Long.toHexString(mapped) + " 8");
            d = tracker.collect();
            assertTrue(d.unmappedRanges().stream().anyMatch(r -> r.contains(mapped)), d.toString());
            tracker.sent(rounds.dirty(d).batches());
            assertQuiet(tracker.collect());
        }
        assertEquals("bye ok exit 0", program.quit());
    }

    private static void assertQuiet(DirtyPages d) {
        assertEquals(List.of(), d.ranges(), "nothing was written: " + d);
        assertEquals(List.of(), d.newRanges(), d.toString());
    }

    /** The first 8 bytes of the page at {@code address} as the round sent it (0 in a zero run). */
    private static long firstWord(PageRound round, long address) {
        for (PageBatch b : round.batches()) {
            long pages = b.getData().isEmpty() ? b.getZeroPages() : b.getData().size() / PageRange.PAGE;
            if (address >= b.getAddress() && address < b.getAddress() + pages * PageRange.PAGE) {
                return b.getData().isEmpty() ? 0
                        : b.getData().asReadOnlyByteBuffer().slice().order(ByteOrder.nativeOrder()).getLong((int) (address - b.getAddress()));
            }
        }
        throw new AssertionError("the round did not read 0x" + Long.toHexString(address) + ": " + round);
    }
}
