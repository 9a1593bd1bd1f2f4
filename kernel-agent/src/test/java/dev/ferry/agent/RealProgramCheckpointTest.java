package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.LhImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real, unmodified programs checkpointed to files mid-run (and killed), restarted from the
 * files, compared byte for byte with an uninterrupted run: the output before the checkpoint
 * plus the output after the restart must be exactly the uninterrupted output.
 */
class RealProgramCheckpointTest {
    @TempDir
    Path dir;
    TestLhs lhs;
    LhImage lastImage;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
    }

    @AfterEach
    void tearDown() throws Exception {
        lhs.close();
    }

    @Test
    void bcComputingPiWithInputStillInItsStdinPipe() throws Exception {
        // the second line is written while bc computes the first, so it is still in the pipe at
        // the checkpoint and must reach the restarted bc through the image
        byte[] first = "scale=1500; 4*a(1)\n".getBytes(StandardCharsets.US_ASCII);
        byte[] second = "scale=40; e(1)\n".getBytes(StandardCharsets.US_ASCII);
        byte[] expected = uninterrupted(List.of("/usr/bin/bc", "-l"), concat(first, second));
        byte[] got = checkpointMidRun(List.of("/usr/bin/bc", "-l"), first, second, 300);
        assertEquals(new String(expected, StandardCharsets.US_ASCII), new String(got, StandardCharsets.US_ASCII));
    }

    @Test
    void gzip() throws Exception {
        Path input = dir.resolve("random.txt");
        writeRandomText(input, 30_000_000);
        List<String> argv = List.of("/usr/bin/gzip", "-c", input.toString());
        assertArrayEquals(uninterrupted(argv, new byte[0]), checkpointMidRun(argv, new byte[0], new byte[0], 250));
    }

    /**
     * xz 5.4 keeps a private self-pipe (fds 3 and 4, both ends its own, O_NONBLOCK) that its
     * signal handlers write to and its poll loop reads: the pipe is recreated at the same fds
     * with its flags and unread bytes, and xz finishes with the output of an uninterrupted run.
     */
    @Test
    void xzWithItsPrivateSelfPipe() throws Exception {
        Path input = dir.resolve("random.txt");
        writeRandomText(input, 5_000_000);   // 2-4 s of xz -T1 here
        List<String> argv = List.of("/usr/bin/xz", "-T1", "-c", input.toString());
        byte[] expected = uninterrupted(argv, new byte[0]);
        assertArrayEquals(expected, checkpointMidRun(argv, new byte[0], new byte[0], 1000));
        assertEquals(1, lastImage.getPipesCount(), "the self-pipe is in the image: " + lastImage.getPipesList());
        List<FileDescriptor> ends = lastImage.getProcesses(0).getFdsList().stream()
                .filter(f -> f.getKind() == FileDescriptor.Kind.PIPE).toList();
        assertEquals(List.of(3, 4), ends.stream().map(FileDescriptor::getFd).toList());
        assertEquals(List.of(false, true), ends.stream().map(FileDescriptor::getWriteEnd).toList());
        assertTrue(ends.stream().allMatch(f -> (f.getFlags() & 04000) != 0), "O_NONBLOCK kept: " + ends);
    }

    @Test
    void pythonHoldingAFewHundredMegabytesOfObjects() throws Exception {
        String script = "import hashlib\n"
                + "h = hashlib.sha256(); keep = []\n"
                + "for i in range(1_500_000):\n"
                + "    s = str(i) * 8\n"
                + "    keep.append((s, i))\n"
                + "    h.update(s.encode())\n"
                + "    if i % 100_000 == 0: print(i, len(keep), h.hexdigest()[:16], flush=True)\n"
                + "print('done', sum(len(s) for s, _ in keep), h.hexdigest())\n";
        List<String> argv = List.of("/usr/bin/python3", "-c", script);
        byte[] expected = uninterrupted(argv, new byte[0]);
        assertTrue(new String(expected, StandardCharsets.US_ASCII).contains("done"));
        assertEquals(new String(expected, StandardCharsets.US_ASCII),
                new String(checkpointMidRun(argv, new byte[0], new byte[0], 400), StandardCharsets.US_ASCII));
    }

    private static byte[] uninterrupted(List<String> argv, byte[] stdin) throws Exception {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<byte[]> out = readAll(p.getInputStream());
        p.getOutputStream().write(stdin);
        p.getOutputStream().close();
        byte[] bytes = out.get(60, TimeUnit.SECONDS);
        assertEquals(0, p.waitFor());
        return bytes;
    }

    /**
     * Starts {@code argv} as an LH, writes {@code stdin}, after {@code delayMs} writes
     * {@code laterStdin}, checkpoints it to files (killing it), restarts it from the files,
     * closes its stdin and returns everything it wrote before and after.
     */
    private byte[] checkpointMidRun(List<String> argv, byte[] stdin, byte[] laterStdin, long delayMs) throws Exception {
        LaunchSpec spec = TestLhs.spec(argv.toArray(String[]::new));
        LaunchedLh original = lhs.launch(spec);
        CompletableFuture<byte[]> before = readAll(original.stdout());
        original.stdin().write(stdin);
        original.stdin().flush();
        Thread.sleep(delayMs);
        original.stdin().write(laterStdin);
        original.stdin().flush();
        Thread.sleep(20);
        Path image = dir.resolve("image");
        LhImage meta = new ProcessCapture().captureTo(spec.lhId(), original.cgroup(), AfterCapture.KILL, image, false);
        lastImage = meta;
        assertTrue(TestLhs.exit(original).signalled(), "checkpointed mid-run: " + TestLhs.exit(original).describe());
        byte[] head = before.get(10, TimeUnit.SECONDS);
        if (laterStdin.length > 0) {
            assertEquals(new String(laterStdin, StandardCharsets.US_ASCII), meta.getPendingStdin().toStringUtf8(),
                    "the unread stdin is in the image");
        }
        LaunchedLh restored = lhs.launcher.restore(spec.lhId(), image);
        try {
            CompletableFuture<byte[]> after = readAll(restored.stdout());
            restored.stdin().close();
            byte[] tail = after.get(60, TimeUnit.SECONDS);
            assertEquals(0, TestLhs.exit(restored).shellCode(), TestLhs.exit(restored).describe());
            return concat(head, tail);
        } finally {
            restored.cgroup().killAll();
            restored.exit().get(10, TimeUnit.SECONDS);
        }
    }

    private static void writeRandomText(Path file, int bytes) throws IOException {
        Random random = new Random(42);
        byte[] raw = new byte[bytes * 3 / 4];
        random.nextBytes(raw);
        Files.write(file, java.util.Base64.getMimeEncoder().encode(raw));
    }

    private static CompletableFuture<byte[]> readAll(InputStream in) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(in.readAllBytes());
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        });
        t.setDaemon(true);
        t.start();
        return f;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
