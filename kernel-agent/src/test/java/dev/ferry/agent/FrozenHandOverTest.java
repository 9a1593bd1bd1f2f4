package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.exit;
import static dev.ferry.agent.TestLhs.spec;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.proto.v1.LhImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stop-and-copy hand-over of a migration: a capture that leaves the program frozen without
 * a tracer (thaw: it goes on; killAll: it dies), and a restore that leaves the copy frozen
 * before its first instruction (thaw: it takes over; killAll: nothing is left). With cgroup2
 * and with the v1 freezer.
 */
class FrozenHandOverTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int SIGUSR1 = 10;
    private static final List<String> SUMMARY = List.of("sum ok", "brk ok", "clock ok", "pid 2");

    @TempDir
    Path dir;
    TestLhs lhs;
    final List<LaunchedLh> restored = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (LaunchedLh lh : restored) {
                lh.cgroup().killAll();
                lh.exit().get(10, TimeUnit.SECONDS);
                lh.cgroup().remove();
            }
        } finally {
            if (lhs != null) {
                lhs.close();
            }
        }
    }

    private void useCgroupV2(boolean v2) throws Exception {
        lhs = new TestLhs(dir.resolve("state"), v2);
        assertEquals(v2, lhs.tree.describe().startsWith("cgroup2 "), lhs.tree.describe());
    }

    /** The ticker (CaptureRebuildTest) with 1 MiB: "tick N" every 5 ms until SIGUSR1, then a summary. */
    private LaunchSpec tickerSpec() {
        return spec(CaptureRebuildTest.TICKER.toString(), "1", dir.resolve("offset").toString(), dir.resolve("append").toString());
    }

    private LaunchedLh restoreFrozen(String lhId, Path imageDir) throws LaunchException {
        LaunchedLh lh = lhs.launcher.restore(lhId, imageDir, true);
        restored.add(lh);
        return lh;
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void afterAFreezeCaptureTheProgramStaysStoppedUntracedAndThawGoesOnWithoutAGap(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh lh = lhs.launch(tickerSpec());
        Lines lines = collect(lh);
        await().atMost(WAIT).until(() -> lines.size() >= 5);

        CapturedLh image = new ProcessCapture().capture(lh.lhId(), lh.cgroup(), AfterCapture.FREEZE);
        assertTrue(image.dataBytes() > 0);
        assertFrozenUntraced(lh);
        int frozenAt = quietFor300ms(lines);

        lh.cgroup().thaw();
        assertFalse(lh.cgroup().frozen());
        await().atMost(WAIT).until(() -> lines.size() > frozenAt + 5);
        lh.signalGroup(SIGUSR1);
        ProgramExit exit = exit(lh);
        assertEquals(0, exit.shellCode(), exit.describe() + "; output " + lines.all());
        assertTicksFromOneThenSummary(lines.all());
    }

    /** Source frozen, copy restored frozen, source killed, copy thawed: the joined output is one uninterrupted run. */
    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void freezeCaptureKillAllAndFrozenRestoreHandOverWithoutGapOrRepeat(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh source = lhs.launch(tickerSpec());
        Lines head = collect(source);
        await().atMost(WAIT).until(() -> head.size() >= 5);
        Path imageDir = dir.resolve("image");
        LhImage meta = new ProcessCapture().captureTo(source.lhId(), source.cgroup(), AfterCapture.FREEZE, imageDir, false);
        assertEquals(source.lhId(), meta.getLhId());
        assertFrozenUntraced(source);

        LaunchedLh copy = restoreFrozen(source.lhId() + "-to", imageDir);
        Lines tail = collect(copy);
        assertFrozenUntraced(copy);
        quietFor300ms(tail);
        assertEquals(0, tail.size(), "the frozen copy ran");
        quietFor300ms(head);

        source.cgroup().killAll();
        ProgramExit sourceExit = exit(source);
        assertTrue(sourceExit.signalled() && (sourceExit.waitStatus() & 0x7f) == 9, sourceExit.describe());

        copy.cgroup().thaw();
        await().atMost(WAIT).until(() -> tail.size() >= 5);
        copy.signalGroup(SIGUSR1);
        ProgramExit exit = exit(copy);
        assertEquals(0, exit.shellCode(), exit.describe() + "; output " + tail.all());
        List<String> joined = new ArrayList<>(head.all());
        joined.addAll(tail.all());
        assertTicksFromOneThenSummary(joined);
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void killAllOfAFrozenRestoreLeavesNothing(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh source = lhs.launch(tickerSpec());
        Lines head = collect(source);
        await().atMost(WAIT).until(() -> head.size() >= 3);
        Path imageDir = dir.resolve("image");
        new ProcessCapture().captureTo(source.lhId(), source.cgroup(), AfterCapture.KILL, imageDir, false);
        exit(source);

        LaunchedLh copy = restoreFrozen(source.lhId() + "-to", imageDir);
        Lines tail = collect(copy);
        List<Integer> pids = copy.cgroup().hostPids();
        assertEquals(v2 ? 2 : 3, pids.size(), "init and program (and with v1 the launcher): " + pids);
        assertFrozenUntraced(copy);
        quietFor300ms(tail);

        copy.cgroup().killAll();
        ProgramExit exit = exit(copy);
        assertEquals(137, exit.shellCode(), exit.describe());
        assertEquals(List.of(), tail.all(), "the aborted copy never ran");
        assertEquals(List.of(), copy.cgroup().hostPids());
        for (int pid : pids) {
            await("pid " + pid + " dies").atMost(WAIT).until(() -> ProcFs.host().status(pid)
                    .map(s -> s.state() == 'Z' || s.state() == 'X').orElse(true));
        }
        for (Path procs : copy.cgroup().procsFiles()) {
            assertFalse(Files.exists(procs.getParent()), "the exit removes the cgroup " + procs.getParent());
        }
    }

    /** bc still has its second line unread in its stdin pipe: the frozen copy finds it there. */
    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void aFrozenRestoreHasItsUnreadStdinBeforeItRuns(boolean v2) throws Exception {
        useCgroupV2(v2);
        String first = "scale=1200; 4*a(1)\n", second = "scale=40; e(1)\n";
        LaunchedLh source = lhs.launch(spec("/usr/bin/bc", "-l"));
        CompletableFuture<byte[]> head = TestLhs.readAll(source.stdout()).thenApply(s -> s.getBytes(StandardCharsets.US_ASCII));
        source.stdin().write(first.getBytes(StandardCharsets.US_ASCII));
        source.stdin().flush();
        Thread.sleep(150);
        source.stdin().write(second.getBytes(StandardCharsets.US_ASCII));
        source.stdin().flush();
        Thread.sleep(20);
        Path imageDir = dir.resolve("image");
        LhImage meta = new ProcessCapture().captureTo(source.lhId(), source.cgroup(), AfterCapture.FREEZE, imageDir, false);
        assertEquals(second, meta.getPendingStdin().toStringUtf8(), "bc was still computing the first line");

        LaunchedLh copy = restoreFrozen(source.lhId() + "-to", imageDir);
        source.cgroup().killAll();
        exit(source);
        CompletableFuture<String> tail = TestLhs.readAll(copy.stdout());
        copy.stdin().close();   // end of file after the refilled line, as for the source
        copy.cgroup().thaw();
        String got = new String(head.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII) + tail.get(30, TimeUnit.SECONDS);
        assertEquals(0, exit(copy).shellCode(), exit(copy).describe());
        assertEquals(uninterruptedBc(first + second), got);
    }

    /** More unread stdin than a default pipe holds (the program had enlarged it): the copy's pipe is enlarged to match. */
    @Test
    void aFrozenRestoreGetsMoreThanSixtyFourKibOfUnreadStdin() throws Exception {
        useCgroupV2(true);
        String script = "import fcntl, hashlib, sys, time\n"
                + "fcntl.fcntl(0, 1031, 1 << 20)\n"   // F_SETPIPE_SZ
                + "print('ready', flush=True)\n"
                + "time.sleep(0.6)\n"
                + "data = sys.stdin.buffer.read()\n"
                + "print(len(data), hashlib.sha256(data).hexdigest(), flush=True)\n";
        LaunchedLh source = lhs.launch(spec("/usr/bin/python3", "-c", script));
        Lines head = collect(source);
        await().atMost(WAIT).until(() -> head.size() >= 1);
        byte[] input = new byte[300_000];
        new java.util.Random(7).nextBytes(input);
        source.stdin().write(input);
        source.stdin().flush();
        Path imageDir = dir.resolve("image");
        LhImage meta = new ProcessCapture().captureTo(source.lhId(), source.cgroup(), AfterCapture.FREEZE, imageDir, false);
        assertEquals(input.length, meta.getPendingStdin().size());

        LaunchedLh copy = restoreFrozen(source.lhId() + "-to", imageDir);
        source.cgroup().killAll();
        exit(source);
        Lines tail = collect(copy);
        copy.stdin().close();
        copy.cgroup().thaw();
        assertEquals(0, exit(copy).shellCode(), exit(copy).describe());
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(input));
        assertEquals(List.of("ready"), head.all());
        assertEquals(List.of(input.length + " " + sha), tail.all());
    }

    private static String uninterruptedBc(String input) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/bc", "-l").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<String> out = TestLhs.readAll(p.getInputStream());
        p.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        assertEquals(0, p.waitFor());
        return out.get(10, TimeUnit.SECONDS);
    }

    /** Frozen, and stopped by the freezer rather than by a tracer that still holds it. */
    private static void assertFrozenUntraced(LaunchedLh lh) throws Exception {
        assertTrue(lh.cgroup().frozen(), "cgroup frozen");
        String status = Files.readString(Path.of("/proc", Integer.toString(lh.programHostPid()), "status"));
        String state = line(status, "State:");
        assertFalse(state.contains("tracing stop") || state.contains("stopped"), state);
        assertEquals("0", line(status, "TracerPid:"), status);
    }

    private static String line(String status, String key) {
        return status.lines().filter(l -> l.startsWith(key)).findFirst().orElseThrow().substring(key.length()).strip();
    }

    /** Lines written just before the freeze may still be on their way; after that none may come. */
    private static int quietFor300ms(Lines lines) throws InterruptedException {
        Thread.sleep(50);
        int before = lines.size();
        Thread.sleep(300);
        assertEquals(List.of(), lines.sinceIndex(before), "output while frozen");
        return before;
    }

    private static void assertTicksFromOneThenSummary(List<String> lines) {
        int ticks = lines.size() - SUMMARY.size();
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= ticks; i++) {
            expected.add("tick " + i);
        }
        expected.addAll(SUMMARY);
        assertEquals(expected, lines);
    }

    /** Every line of the LH's stdout, as it comes, until end of file. */
    private static Lines collect(LaunchedLh lh) {
        Lines lines = new Lines();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(lh.stdout(), StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (Exception ended) {
                // the LH was killed
            } finally {
                lines.end.complete(null);
            }
        }, "reader-" + lh.lhId());
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    /** Lines read so far; {@link #all()} waits for the end of the stream. */
    private static final class Lines {
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Void> end = new CompletableFuture<>();

        void add(String line) {
            lines.add(line);
        }

        int size() {
            return lines.size();
        }

        List<String> sinceIndex(int from) {
            synchronized (lines) {
                return List.copyOf(lines.subList(from, lines.size()));
            }
        }

        List<String> all() throws Exception {
            end.get(10, TimeUnit.SECONDS);
            return List.copyOf(lines);
        }
    }
}
