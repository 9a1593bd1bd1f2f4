package dev.ferry.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.agent.dirty.DirtierProgram;
import dev.ferry.agent.dirty.DirtyPages;
import dev.ferry.agent.dirty.DirtyTracker;
import dev.ferry.agent.dirty.DirtyTrackers;
import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.PageBatch;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pre-copy rounds against the dirtier test program while a background thread keeps it writing
 * random arena pages: round 1, a few dirty rounds, then a last dirty round read frozen must add
 * up, byte for byte, to the memory read in one go while frozen. Arena size: FERRY_PRECOPY_MIB
 * (default 32) in the environment.
 */
@Timeout(120)
class PageRoundsTest {
    private static final int PAGE = 4096;
    private static final int SIGSTOP = 19, SIGCONT = 18;
    private static final ByteBuffer ZERO = ByteBuffer.allocate(PAGE);
    private static final int DIRTY_ROUNDS = 4;

    /*
     * The hash tracker too: each round is handed to it with sent(), so it compares with what
     * was read, and a page that changes between the collect and the read and then changes back
     * (libc's stdin FILE pointers do) is re-sent.
     */
    @ParameterizedTest
    @ValueSource(strings = {DirtyTrackers.UFFD_WP, DirtyTrackers.SOFT_DIRTY, DirtyTrackers.HASH})
    void roundsOfARunningProgramAddUpToItsMemoryAtTheFreeze(String trackerName) throws Exception {
        DirtyTrackers.Probe probe = DirtyTrackers.probe(trackerName);
        assumeTrue(probe.works(), trackerName + " does not work here: " + probe.detail());
        int mib = Integer.parseInt(System.getenv().getOrDefault("FERRY_PRECOPY_MIB", "32"));
        try (TracerThread tracer = new TracerThread("precopy-test-tracer");
                DirtierProgram program = DirtierProgram.start(mib * 256)) {
            Dirtying dirtying = new Dirtying(program);
            try (DirtyTracker tracker = DirtyTrackers.open(trackerName, program.pid, tracer);
                    PageRounds rounds = new PageRounds(program.pid, program.pid)) {
                tracker.start();
                dirtying.thread.start();
                TreeMap<Long, ByteBuffer> union = new TreeMap<>();
                List<String> report = new ArrayList<>();
                PageRound first = rounds.first();
                tracker.sent(first.batches());
                apply(union, first);
                TreeMap<Long, ByteBuffer> firstOnly = new TreeMap<>(union);
                report.add("round 1: " + first);
                List<PageRound> later = new ArrayList<>();
                for (int r = 0; r < DIRTY_ROUNDS; r++) {
                    Thread.sleep(20);   // as if sending the previous round took a while
                    later.add(dirtyRound(tracker, rounds, union));
                    report.add("round " + (r + 2) + ": " + later.get(r));
                }
                freeze(program.pid);
                PageRound last;
                TreeMap<Long, ByteBuffer> reference = new TreeMap<>();
                try {
                    long c0 = System.nanoTime();
                    last = dirtyRound(tracker, rounds, union);
                    report.add("frozen last round: " + last + " (collect + read " + (System.nanoTime() - c0) / 1_000_000.0 + " ms)");
                    PageRound whole = rounds.first();
                    apply(reference, whole);
                    report.add("frozen whole read: " + whole);
                } finally {
                    KernelCalls.INSTANCE.kill(program.pid, SIGCONT);
                }
                System.out.println("[PageRoundsTest] " + trackerName + ", " + mib + " MiB arena\n  " + String.join("\n  ", report));

                assertEquals(List.of(), differences(union, reference), "the rounds do not add up to the frozen memory");
                assertTrue(differences(firstOnly, reference).size() > 0, "the program wrote nothing during the rounds: the test proves nothing");
                assertTrue(later.stream().mapToLong(PageRound::pages).sum() > 0);
                for (PageRound r : later) {
                    assertTrue(r.pages() * 10 < first.pages(), "a dirty round is not much smaller than round 1: " + r + " vs " + first);
                }
            } finally {
                dirtying.stop();
            }
            assertEquals("bye ok exit 0", program.quit(), "the program's own check of its arena after the rounds");
        }
    }

    /**
     * The rounds read /proc/PID/maps, which shows no VmFlags, while the capture at the freeze
     * has them: both must still say the stack grows down, or the destination, comparing the
     * layouts, would map the stack afresh at the freeze and lose the stack pages of earlier rounds.
     */
    @org.junit.jupiter.api.Test
    void theRoundsLayoutsSayTheStackGrowsDownAsTheCaptureDoes() throws Exception {
        try (DirtierProgram program = DirtierProgram.start(16); PageRounds rounds = new PageRounds(program.pid, program.pid)) {
            List<dev.ferry.proto.v1.Mapping> first = rounds.firstTo(new MemoryPageSink());
            List<dev.ferry.proto.v1.Mapping> later = rounds.dirtyTo(List.of(), new MemoryPageSink());
            for (List<dev.ferry.proto.v1.Mapping> layout : List.of(first, later)) {
                assertTrue(layout.stream().filter(m -> m.getSpecial() == dev.ferry.proto.v1.Mapping.Special.STACK)
                        .allMatch(dev.ferry.proto.v1.Mapping::getGrowsDown), layout.toString());
                assertEquals(1, layout.stream().filter(dev.ferry.proto.v1.Mapping::getGrowsDown).count());
            }
            assertEquals("bye ok exit 0", program.quit());
        }
    }

    /** Keeps the program writing 4 random arena pages (16 KiB) about every millisecond until stopped. */
    private static final class Dirtying {
        final Thread thread;
        volatile boolean stop;
        volatile Exception failure;

        Dirtying(DirtierProgram program) {
            thread = new Thread(() -> {
                try {
                    for (int seed = 1; !stop; seed++) {
                        program.command("R " + seed + " 4");
                        LockSupport.parkNanos(1_000_000);
                    }
                } catch (Exception e) {
                    failure = e;
                }
            }, "precopy-test-dirtying");
            thread.setDaemon(true);
        }

        void stop() throws Exception {
            stop = true;
            thread.join(10_000);
            if (failure != null) {
                throw failure;
            }
        }
    }

    private static PageRound dirtyRound(DirtyTracker tracker, PageRounds rounds, TreeMap<Long, ByteBuffer> union) throws Exception {
        DirtyPages dirty = tracker.collect();
        for (PageRange gone : dirty.unmappedRanges()) {
            union.subMap(gone.start(), gone.end()).clear();
        }
        PageRound round = rounds.dirty(dirty);
        tracker.sent(round.batches());
        apply(union, round);
        return round;
    }

    private static void freeze(int pid) {
        KernelCalls.INSTANCE.kill(pid, SIGSTOP);
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1)).until(() -> {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("T");
        });
    }

    /** Puts each page of the round into {@code pages}, over what an earlier round put there. */
    private static void apply(Map<Long, ByteBuffer> pages, PageRound round) {
        for (PageBatch b : round.batches()) {
            if (b.getData().isEmpty()) {
                for (long i = 0; i < b.getZeroPages(); i++) {
                    pages.put(b.getAddress() + i * PAGE, ZERO);
                }
                continue;
            }
            ByteBuffer data = b.getData().asReadOnlyByteBuffer();
            for (int off = 0; off < data.remaining(); off += PAGE) {
                pages.put(b.getAddress() + off, data.slice(off, PAGE));
            }
        }
    }

    /**
     * Addresses where {@code pages} and {@code reference} disagree; a page missing on one side
     * counts as zeros (an absent private anonymous page reads as zeros, and a zero run covers it).
     */
    private static List<String> differences(TreeMap<Long, ByteBuffer> pages, TreeMap<Long, ByteBuffer> reference) {
        List<String> out = new ArrayList<>();
        TreeMap<Long, ByteBuffer> all = new TreeMap<>(reference);
        pages.forEach(all::putIfAbsent);
        for (long address : all.keySet()) {
            ByteBuffer a = pages.getOrDefault(address, ZERO), b = reference.getOrDefault(address, ZERO);
            if (!a.duplicate().clear().equals(b.duplicate().clear()) && out.size() < 10) {
                out.add(Long.toHexString(address) + (pages.containsKey(address) ? "" : " (missing)") + " words "
                        + Long.toHexString(a.getLong(0)) + "/" + Long.toHexString(a.getLong(PAGE - 8)) + " vs "
                        + Long.toHexString(b.getLong(0)) + "/" + Long.toHexString(b.getLong(PAGE - 8)));
            }
        }
        return out;
    }
}
