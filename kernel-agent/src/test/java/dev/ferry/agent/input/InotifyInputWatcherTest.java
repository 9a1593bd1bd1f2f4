package dev.ferry.agent.input;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InotifyInputWatcherTest {
    /** Long enough for an event to arrive if there were one (they arrive within microseconds). */
    private static final long QUIET_MS = 400;

    @TempDir
    Path dir;

    private final List<String> seen = new CopyOnWriteArrayList<>();

    @Test
    void readsAreInputWritesAreNot() throws IOException, InterruptedException {
        Path device = Files.writeString(dir.resolve("device"), "x");
        try (InotifyInputWatcher w = InotifyInputWatcher.start(InputSources.only(List.of(device)), seen::add)) {
            assertEquals(List.of(device.toString()), w.watched());
            Files.writeString(device, "output");
            Thread.sleep(QUIET_MS);
            assertEquals(List.of(), seen, "a write is output, not the owner");
            Files.readAllBytes(device);
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains(device.toString()));
        }
    }

    @Test
    void aMissingDeviceIsAProblemNotAFailure() throws IOException {
        try (InotifyInputWatcher w = InotifyInputWatcher.start(InputSources.only(List.of(dir.resolve("none"))), seen::add)) {
            assertEquals(List.of(), w.watched());
            assertEquals(1, w.problems().size());
            assertTrue(w.problems().get(0).contains("No such file"), w.problems()::toString);
        }
    }

    @Test
    void newDevicesInAWatchedDirectoryAreWatchedWhenTheirNameMatches() throws IOException, InterruptedException {
        InputSources sources = new InputSources(List.of(),
                List.of(new InputSources.DeviceDirectory(dir, Pattern.compile("dev[0-9]+"))));
        try (InotifyInputWatcher w = InotifyInputWatcher.start(sources, seen::add)) {
            Path other = Files.writeString(dir.resolve("other"), "x");
            Path dev = Files.writeString(dir.resolve("dev7"), "x");
            await().atMost(Duration.ofSeconds(5)).until(() -> w.watched().contains(dev.toString()));
            Files.readAllBytes(other);
            Thread.sleep(QUIET_MS);
            assertEquals(List.of(), seen);
            Files.readAllBytes(dev);
            await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains(dev.toString()));
        }
    }

    @Test
    void afterCloseNothingIsReported() throws IOException, InterruptedException {
        Path device = Files.writeString(dir.resolve("device"), "x");
        InotifyInputWatcher w = InotifyInputWatcher.start(InputSources.only(List.of(device)), seen::add);
        w.close();
        w.close();
        Files.readAllBytes(device);
        Thread.sleep(QUIET_MS);
        assertEquals(List.of(), seen);
    }

    /**
     * A real pseudo-terminal: a program writing to it (output) is not input; a key written on
     * the terminal's master side and read by the program on the slave side is.
     */
    @Test
    void aTerminalKeyReadByItsProgramIsInputItsOutputIsNot() throws IOException, InterruptedException {
        String pty = String.join("\n",
                "import os, sys",
                "master, slave = os.openpty()",
                "print(os.ttyname(slave), flush=True)",
                "for line in sys.stdin:",
                "    if line.strip() == 'out': os.write(slave, b'prompt$ ')",
                "    if line.strip() == 'key': os.write(master, b'k\\n'); os.read(slave, 16)",
                "    print('done', flush=True)");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", pty).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream in = p.getOutputStream()) {
            Path tty = Path.of(out.readLine());
            try (InotifyInputWatcher w = InotifyInputWatcher.start(InputSources.only(List.of(tty)), seen::add)) {
                in.write("out\n".getBytes(StandardCharsets.US_ASCII));
                in.flush();
                assertEquals("done", out.readLine());
                Thread.sleep(QUIET_MS);
                assertEquals(List.of(), seen, "output on the terminal is not the owner");
                in.write("key\n".getBytes(StandardCharsets.US_ASCII));
                in.flush();
                assertEquals("done", out.readLine());
                await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains(tty.toString()));
            }
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    @Test
    void parsesEventsWithAndWithoutNamesAndRefusesATruncatedOne() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.nativeOrder());
        b.putInt(3).putInt(1).putInt(0).putInt(0);
        b.putInt(4).putInt(0x100).putInt(0).putInt(16).put("pts9".getBytes(StandardCharsets.US_ASCII)).put(new byte[12]);
        List<String> events = new ArrayList<>();
        InotifyInputWatcher.forEachEvent(b.array(), b.position(), (wd, mask, name) -> events.add(wd + ":" + mask + ":" + name));
        assertEquals(List.of("3:1:", "4:256:pts9"), events);
        assertThrows(IllegalArgumentException.class,
                () -> InotifyInputWatcher.forEachEvent(b.array(), b.position() - 4, (wd, mask, name) -> { }));
    }
}
