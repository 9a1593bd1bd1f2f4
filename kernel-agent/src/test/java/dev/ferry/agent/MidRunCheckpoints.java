package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.proto.v1.LhImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A program run as an LH and checkpointed to files mid-run, killed and restarted from the files
 * in a fresh LH, as often as asked, compared line for line with an uninterrupted run. Keeps the
 * images and the restored LHs; {@link #close} kills and removes the restored ones.
 */
final class MidRunCheckpoints implements AutoCloseable {
    final List<LhImage> images = new ArrayList<>();
    private final List<LaunchedLh> restored = new ArrayList<>();
    private final TestLhs lhs;
    private final Path dir;

    MidRunCheckpoints(TestLhs lhs, Path dir) {
        this.lhs = lhs;
        this.dir = dir;
    }

    /** The lines {@code argv} prints run plainly (no LH), stdin closed; it must exit 0. */
    static List<String> uninterrupted(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        List<String> lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).lines().toList();
        assertEquals(0, p.waitFor());
        return lines;
    }

    /**
     * Runs {@code argv} as an LH (stdin closed); once it has printed {@code afterLines[i]} lines
     * in all, it is checkpointed into a directory (and killed) and restarted from it. Returns
     * every line printed by the original and its restarts; the last one must exit 0.
     */
    List<String> run(List<String> argv, int... afterLines) throws Exception {
        return runWithProcesses(argv, 0, afterLines);
    }

    /** As {@link #run(List, int...)}, each capture waiting until the LH has at least {@code processes} processes (its init aside). */
    List<String> runWithProcesses(List<String> argv, int processes, int... afterLines) throws Exception {
        LaunchSpec spec = TestLhs.spec(argv.toArray(String[]::new));
        LaunchedLh lh = lhs.launch(spec);
        StringBuilder text = new StringBuilder();   // characters, not lines: a capture may fall inside a line
        int newlines = 0;
        for (int round = 0; round <= afterLines.length; round++) {
            BufferedReader out = new BufferedReader(new InputStreamReader(lh.stdout(), StandardCharsets.UTF_8));
            lh.stdin().close();
            if (round == afterLines.length) {
                text.append(readRest(out));
                assertEquals(0, TestLhs.exit(lh).shellCode(), TestLhs.exit(lh).describe() + "; output " + text);
                return text.toString().lines().toList();
            }
            while (newlines < afterLines[round]) {
                int c = out.read();
                assertTrue(c >= 0, "ended before line " + afterLines[round] + ": " + text);
                text.append((char) c);
                newlines += c == '\n' ? 1 : 0;
            }
            LhCgroup cgroup = lh.cgroup();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).pollInterval(java.time.Duration.ofMillis(5))
                    .until(() -> cgroup.hostPids().size() >= processes + 1);
            Path image = dir.resolve("image" + round);
            images.add(new ProcessCapture().captureTo(spec.lhId(), lh.cgroup(), AfterCapture.KILL, image, false));
            String rest = CompletableFuture.supplyAsync(() -> readRest(out)).get(10, TimeUnit.SECONDS);   // written before the capture
            text.append(rest);
            newlines += (int) rest.chars().filter(c -> c == '\n').count();
            assertTrue(TestLhs.exit(lh).signalled(), TestLhs.exit(lh).describe());
            lh = lhs.launcher.restore(spec.lhId(), image);
            restored.add(lh);
        }
        throw new AssertionError("unreachable");
    }

    private static String readRest(BufferedReader in) {
        try {
            StringBuilder b = new StringBuilder();
            char[] buf = new char[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                b.append(buf, 0, n);
            }
            return b.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws Exception {
        for (LaunchedLh lh : restored) {
            lh.cgroup().killAll();
            lh.exit().get(10, TimeUnit.SECONDS);
            lh.cgroup().remove();
        }
    }
}
