package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.exit;
import static dev.ferry.agent.TestLhs.readAll;
import static dev.ferry.agent.TestLhs.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.ImageReader;
import dev.ferry.agent.checkpoint.ImageWriter;
import dev.ferry.agent.checkpoint.ProcessCapture;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture a running C program, kill it, rebuild it in a fresh LH: it continues as if nothing happened. */
class CaptureRebuildTest {
    static final Path TICKER = Path.of("target", "native-test", "ticker").toAbsolutePath();

    static final int SIGUSR1 = 10;

    @TempDir
    Path dir;
    TestLhs lhs;
    final List<LaunchedLh> restoredLhs = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            cleanRestored();
        } finally {
            lhs.close();
        }
    }

    private void cleanRestored() throws Exception {
        for (LaunchedLh lh : restoredLhs) {
            lh.cgroup().killAll();
            lh.exit().get(10, TimeUnit.SECONDS);
            lh.cgroup().remove();
        }
        restoredLhs.clear();
    }

    LaunchedLh restore(String lhId, CapturedLh image) throws LaunchException {
        LaunchedLh lh = lhs.launcher.restore(lhId, image);
        restoredLhs.add(lh);
        return lh;
    }

    @Test
    void tickerContinuesAfterCaptureKillAndRebuild() throws Exception {
        captureKillRebuild(lhs, "cgroup2");
    }

    @Test
    void sameWithTheV1Freezer() throws Exception {
        try (TestLhs v1 = new TestLhs(dir.resolve("state-v1"), false)) {
            try {
                captureKillRebuild(v1, "v1 freezer");
            } finally {
                cleanRestored();   // before v1's tree goes
            }
        }
    }

    private void captureKillRebuild(TestLhs lhs, String freezer) throws Exception {
        Path offsetFile = dir.resolve("offset.txt");
        Path appendFile = dir.resolve("append.txt");
        LaunchSpec spec = spec(TICKER.toString(), "64", offsetFile.toString(), appendFile.toString());
        LaunchedLh original = lhs.launch(spec);
        BufferedReader out1 = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        while (lines.size() < 5) {
            lines.add(out1.readLine());
        }
        // ticker maps nothing new while it ticks: its maps at the capture are these
        String mapsBefore = Files.readString(Path.of("/proc", Integer.toString(original.programHostPid()), "maps"));
        long t0 = System.nanoTime();
        CapturedLh image = new ProcessCapture().capture(spec.lhId(), original.cgroup(), AfterCapture.KILL);
        long t1 = System.nanoTime();
        for (String line; (line = out1.readLine()) != null; ) {
            lines.add(line);   // everything written before the capture
        }
        assertTrue(exit(original).signalled(), exit(original).describe());
        Files.writeString(appendFile, "X\n", java.nio.file.StandardOpenOption.APPEND);

        long t2 = System.nanoTime();
        LaunchedLh restored = lhs.launcher.restore(spec.lhId(), image);
        restoredLhs.add(0, restored);
        long t3 = System.nanoTime();
        System.out.printf("64 MiB ticker (" + freezer + "): capture %.1f ms (%d MiB of pages), rebuild %.1f ms%n", (t1 - t0) / 1e6,
                image.dataBytes() >> 20, (t3 - t2) / 1e6);
        assertEquals(mapsBefore, Files.readString(Path.of("/proc", Integer.toString(restored.programHostPid()), "maps")),
                "the same addresses, permissions, offsets, devices, inodes and paths, vdso and vvar included");
        BufferedReader out2 = new BufferedReader(new InputStreamReader(restored.stdout(), StandardCharsets.UTF_8));
        int before = lines.size();
        String line;
        while ((line = out2.readLine()) != null) {
            lines.add(line);
            if (lines.size() == before + 5) {
                restored.signalGroup(SIGUSR1);
            }
        }
        ProgramExit exit = exit(restored);
        assertEquals(0, exit.shellCode(), exit.describe() + "; output " + lines);
        int ticks = lines.size() - 4;
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= ticks; i++) {
            expected.add("tick " + i);
        }
        expected.addAll(List.of("sum ok", "brk ok", "clock ok", "pid 2"));
        assertEquals(expected, lines);
        String ticksText = String.join("", expected.subList(0, ticks).stream().map(s -> s + "\n").toList());
        assertEquals(ticksText, Files.readString(offsetFile), "writes continue at the file offset");
        // the capture may stop the program between its stdout write and its file writes of one tick
        List<String> appended = new ArrayList<>(List.of(Files.readString(appendFile).split("\n")));
        int x = appended.indexOf("X");
        assertTrue(x == before || x == before - 1, "X written between capture and restore sits at the end: " + appended);
        appended.remove(x);
        assertEquals(expected.subList(0, ticks), appended, "O_APPEND writes continue at the end, none lost");
    }

    private static List<String> readTicksThenStop(LaunchedLh lh, int ticksBeforeStop) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(lh.stdout(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        for (String line; (line = out.readLine()) != null; ) {
            lines.add(line);
            if (lines.size() == ticksBeforeStop) {
                lh.signalGroup(SIGUSR1);
            }
        }
        return lines;
    }

    private static void assertConsecutiveTicksThenSummary(List<String> lines) {
        int first = Integer.parseInt(lines.get(0).substring(5));
        int ticks = lines.size() - 4;
        for (int i = 0; i < ticks; i++) {
            assertEquals("tick " + (first + i), lines.get(i), lines.toString());
        }
        assertEquals(List.of("sum ok", "brk ok", "clock ok", "pid 2"), lines.subList(ticks, lines.size()));
    }

    @Test
    void leaveRunningThenRestartFromFilesIsAFork() throws Exception {
        LaunchSpec spec = spec(TICKER.toString(), "8", dir.resolve("o").toString(), dir.resolve("a").toString());
        LaunchedLh original = lhs.launch(spec);
        BufferedReader out = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
        for (int i = 1; i <= 3; i++) {
            assertEquals("tick " + i, out.readLine());
        }
        CapturedLh captured = new ProcessCapture().capture(spec.lhId(), original.cgroup(), AfterCapture.LEAVE_RUNNING);
        Path imageDir = dir.resolve("image");
        ImageWriter.write(captured, imageDir, false);
        CapturedLh loaded = ImageReader.read(imageDir);

        List<String> rest = readTicksThenStop(original, 5);
        assertConsecutiveTicksThenSummary(rest);
        assertEquals(0, exit(original).shellCode(), "the original goes on and ends normally");

        LaunchedLh fork = restore(spec.lhId() + "-fork", loaded);
        List<String> forked = readTicksThenStop(fork, 5);
        assertConsecutiveTicksThenSummary(forked);
        assertTrue(Integer.parseInt(forked.get(0).substring(5)) >= 4, "the fork continues after the capture: " + forked);
        assertEquals(0, exit(fork).shellCode());
    }

    @Test
    void aChangedExecutableIsRefusedBeforeAnythingStarts() throws Exception {
        Path copy = Files.copy(TICKER, dir.resolve("ticker-copy"));
        LaunchSpec spec = spec(copy.toString(), "1", dir.resolve("o").toString(), dir.resolve("a").toString());
        LaunchedLh original = lhs.launch(spec);
        new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8)).readLine();
        CapturedLh captured = new ProcessCapture().capture(spec.lhId(), original.cgroup(), AfterCapture.KILL);
        exit(original);
        Files.write(copy, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        LaunchException e = assertThrows(LaunchException.class, () -> restore(spec.lhId(), captured));
        assertTrue(e.getMessage().contains(copy + " changed size"), e.getMessage());
    }
}
