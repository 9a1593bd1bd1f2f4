package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.PageRounds;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.agent.checkpoint.SendingPageSink;
import dev.ferry.agent.checkpoint.VmFlagsSnapshot;
import dev.ferry.agent.dirty.DirtyPages;
import dev.ferry.agent.dirty.DirtyTracker;
import dev.ferry.agent.dirty.DirtyTrackers;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.agent.rebuild.PrecopyRebuild;
import dev.ferry.agent.rebuild.RebuildException;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pre-copy without a network: a churn program keeps rewriting pages (and unmapping, mapping
 * and discarding memory) while rounds fill a restore stub; then the LH is frozen, the last
 * dirty pages and the kernel state go over, and the rebuilt copy must hold exactly the frozen
 * original's memory — which churn itself checks once it runs again.
 */
@Timeout(120)
class PrecopyRebuildTest {
    static final Path CHURN = Path.of("target", "native-test", "churn").toAbsolutePath();
    static final int SIGUSR1 = 10;

    @TempDir
    Path dir;
    TestLhs lhs;
    LaunchedLh rebuilt;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (rebuilt != null) {
                rebuilt.cgroup().killAll();
                rebuilt.exit().get(10, TimeUnit.SECONDS);
                rebuilt.cgroup().remove();
            }
        } finally {
            lhs.close();
        }
    }

    @Test
    void roundsWhileItRunsThenTheFreezeGiveAnIdenticalProgram() throws Exception {
        LaunchedLh original = lhs.launch(spec(CHURN.toString(), "32", "40", "--layout", "--ticks"));
        BufferedReader out = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
        assertTrue(out.readLine().startsWith("ready"));
        LaunchedLh copy = moveByPrecopy(original, 4, true);
        BufferedReader out2 = new BufferedReader(new InputStreamReader(copy.stdout(), StandardCharsets.UTF_8));
        assertTrue(out2.readLine().startsWith("tick"), "it runs on");
        copy.signalGroup(SIGUSR1);
        String line;
        while ((line = out2.readLine()) != null && !line.startsWith("check")) {
            // ticks
        }
        assertEquals("check ok " + 32 * 256, line, "every page as the original had it at the freeze");
    }

    /**
     * Every thread moves (ThreadedProgramCheckpointTest's program: threads blocked in a futex
     * wait, nanosleep and read, and one computing), and the output is that of an uninterrupted run.
     */
    @Test
    void aMultiThreadedProgramMovesByPrecopy() throws Exception {
        Path threads = ThreadedProgramCheckpointTest.THREADS;
        Process plain = new ProcessBuilder(threads.toString(), "100").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> expected = new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.UTF_8)).lines().toList();
        assertEquals(0, plain.waitFor());
        LaunchedLh original = lhs.launch(spec(threads.toString(), "100"));
        BufferedReader out = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
        List<String> lines = new java.util.ArrayList<>();
        while (lines.size() < 6) {
            lines.add(out.readLine());
        }
        LaunchedLh copy = moveByPrecopy(original, 2, true);
        lines.addAll(java.util.concurrent.CompletableFuture.supplyAsync(() -> out.lines().toList()).get(10, TimeUnit.SECONDS));
        new BufferedReader(new InputStreamReader(copy.stdout(), StandardCharsets.UTF_8)).lines().forEach(lines::add);
        assertEquals(0, copy.exit().get(20, TimeUnit.SECONDS).shellCode(), "output " + lines);
        assertEquals(expected, lines);
    }

    /**
     * Moves {@code original} into a new LH by pre-copy rounds ({@code rounds} after the first)
     * and a freeze; the original is killed, the copy thawed and returned. {@code sameMaps}: the
     * copy's /proc/PID/maps must be the frozen original's.
     */
    private LaunchedLh moveByPrecopy(LaunchedLh original, int rounds, boolean sameMaps) throws Exception {
        String trackerName = DirtyTrackers.probe();
        int hostPid = original.programHostPid();
        String newId = "p" + System.nanoTime() % 100000;
        try (TracerThread tracer = new TracerThread("precopy-test");
                DirtyTracker tracker = DirtyTrackers.open(trackerName, hostPid, tracer);
                PageRounds pageRounds = new PageRounds(hostPid, 2);
                LhLauncher.RestoreStub stub = lhs.launcher.startStub(newId, 2);
                PrecopyRebuild rebuild = PrecopyRebuild.begin(stub.hostPid(), newId, lhs.launcher.hostFeatures())) {
            Destination destination = new Destination(rebuild);
            tracker.start();
            SendingPageSink first = destination.sink();
            pageRounds.firstTo(first);
            first.flush();
            RangeSet sent = first.dataRanges();
            for (int r = 0; r < rounds; r++) {
                Thread.sleep(30);
                DirtyPages dirty = tracker.collect();
                SendingPageSink round = destination.sink();
                pageRounds.dirtyTo(dirty.ranges(), round);
                round.flush();
                sent = sent.union(round.dataRanges()).minus(round.zeroRanges());
            }
            VmFlagsSnapshot flags = VmFlagsSnapshot.take(hostPid);
            original.cgroup().freeze();
            DirtyPages last = tracker.collect();
            LhImage state = new ProcessCapture().captureState(original.lhId(), original.cgroup(), AfterCapture.FREEZE, flags);
            rebuild.finalLayout(state);
            pageRounds.growsDownAsCaptured(state.getProcesses(0).getMappingsList());
            SendingPageSink finalPages = destination.sink(false);
            pageRounds.dirtyTo(last.ranges(), finalPages, true);
            long discarded = pageRounds.discardedTo(sent.minus(finalPages.zeroRanges()).minus(finalPages.dataRanges()), finalPages);
            finalPages.flush();
            System.out.printf("pre-copy test (%s): final round %d pages, %d discarded found%n", trackerName,
                    finalPages.pages(), discarded);
            String mapsBefore = Files.readString(Path.of("/proc", Integer.toString(hostPid), "maps"));
            LaunchedLh copy = stub.complete(state, true, frozen -> rebuild.finish(state, frozen));
            rebuilt = copy;
            if (sameMaps) {
                assertEquals(withoutUffdNoise(mapsBefore), withoutUffdNoise(
                        Files.readString(Path.of("/proc", Integer.toString(copy.programHostPid()), "maps"))));
            }
            original.cgroup().killAll();
            copy.cgroup().thaw();
            return copy;
        }
    }

    /**
     * Adjacent anonymous areas with the same permissions joined: the kernel merges or keeps them
     * apart by history (e.g. userfaultfd registration splits them at the source), which the
     * program cannot see.
     */
    private static String withoutUffdNoise(String maps) {
        StringBuilder out = new StringBuilder();
        String[] prev = null;
        for (String line : maps.split("\n")) {
            String[] f = line.trim().split("\\s+");
            boolean anon = f.length == 5;
            if (prev != null && anon && prev.length == 5 && prev[0].split("-")[1].equals(f[0].split("-")[0]) && prev[1].equals(f[1])) {
                prev[0] = prev[0].split("-")[0] + "-" + f[0].split("-")[1];
                continue;
            }
            if (prev != null) {
                out.append(String.join(" ", prev)).append('\n');
            }
            prev = f;
        }
        if (prev != null) {
            out.append(String.join(" ", prev)).append('\n');
        }
        return out.toString();
    }

    /** The destination's side of the test's "network": rounds and pages go straight into the rebuild. */
    private static final class Destination {
        private final PrecopyRebuild rebuild;
        private int round;

        Destination(PrecopyRebuild rebuild) {
            this.rebuild = rebuild;
        }

        SendingPageSink sink() {
            return sink(true);
        }

        /** A round's sink; the final one's layout was set by finalLayout. */
        SendingPageSink sink(boolean newRound) {
            return new SendingPageSink(new SendingPageSink.Sender() {
                @Override
                public void layout(List<Mapping> mappings) throws IOException {
                    if (newRound) {
                        try {
                            rebuild.round(++round, mappings);
                        } catch (RebuildException e) {
                            throw new IOException(e);
                        }
                    }
                }

                @Override
                public void send(List<PageBatch> batches) throws IOException {
                    try {
                        rebuild.pages(batches);
                    } catch (RebuildException e) {
                        throw new IOException(e);
                    }
                }
            });
        }
    }
}
