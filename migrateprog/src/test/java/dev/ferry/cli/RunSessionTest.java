package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import dev.ferry.proto.v1.Started;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class RunSessionTest {
    private FakeManager manager;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    @AfterEach
    void closeManager() throws Exception {
        if (manager != null) {
            manager.close();
            assertTrue(manager.failures.isEmpty(), () -> "fake manager failed: " + manager.failures);
        }
    }

    private int run(FakeManager.Handler handler, InputStream stdin, OutputStream out, boolean verbose,
                    RunRequest request) throws Exception {
        manager = new FakeManager(handler);
        RunSession session = new RunSession(ManagerSocket.connect(manager.socket), stdin, out, stderr, verbose);
        return session.run(request);
    }

    private int run(FakeManager.Handler handler) throws Exception {
        return run(handler, InputStream.nullInputStream(), stdout, false, request("", "/"));
    }

    private static RunRequest request(String destination, String cwd) {
        return RunRequest.newBuilder().setDestination(destination)
                .setSpec(ProgramSpec.newBuilder().addArgv("prog").setCwd(cwd)).build();
    }

    private static ServerFrame exit(int code) {
        return ServerFrame.newBuilder().setExit(ExitStatus.newBuilder().setCode(code)).build();
    }

    private String stderrText() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    @Test
    void stdinArrivesByteExactAndOutputBytesAreRelayedUnchanged() throws Exception {
        byte[] input = new byte[1 << 20];
        new Random(42).nextBytes(input);
        ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        int[] largestChunk = {0};
        int code = run((request, connection) -> {
            assertEquals("prog", request.getRun().getSpec().getArgv(0));
            while (true) {
                ClientFrame frame = connection.next();
                if (frame.hasStdinEof()) {
                    break;
                }
                assertTrue(frame.hasStdin(), "only stdin before its end: " + frame);
                largestChunk[0] = Math.max(largestChunk[0], frame.getStdin().size());
                frame.getStdin().writeTo(forwarded);
                // Echo it back: stdout as is, stderr as the first byte only.
                connection.send(ServerFrame.newBuilder().setStdout(frame.getStdin()).build());
                connection.send(ServerFrame.newBuilder().setStderr(frame.getStdin().substring(0, 1)).build());
            }
            connection.send(exit(0));
        }, new ByteArrayInputStream(input), stdout, false, request("h2", "/"));
        assertEquals(0, code);
        assertArrayEquals(input, forwarded.toByteArray());
        assertArrayEquals(input, stdout.toByteArray());
        assertTrue(largestChunk[0] <= 64 * 1024, "chunk of " + largestChunk[0]);
        assertEquals(16, stderr.size(), "one stderr byte per 64 KiB chunk");
        assertEquals("h2", manager.requests.get(0).getRun().getDestination());
    }

    @Test
    void exitCodeIsTheProgramsAndExecFailuresAreExplained() throws Exception {
        assertEquals(3, run((request, connection) -> connection.send(exit(3))));
        manager.close();
        assertEquals(130, run((request, connection) -> connection.send(exit(130))));
        manager.close();
        assertEquals(127, run((request, connection) -> connection.send(ServerFrame.newBuilder()
                .setExit(ExitStatus.newBuilder().setCode(127).setExecFailed(true)
                        .setMessage("nosuch: command not found")).build())));
        assertEquals("ferry: nosuch: command not found\n", stderrText());
    }

    @Test
    void errorFrameExits255WithItsMessage() throws Exception {
        int code = run((request, connection) -> connection.send(ServerFrame.newBuilder()
                .setError(FerryError.newBuilder().setCode(ErrorCode.UNAVAILABLE).setMessage("no willing host")).build()));
        assertEquals(255, code);
        assertEquals("ferry: no willing host\n", stderrText());
    }

    @Test
    void unknownHostNamedLikeAFileHereGetsTheQuotingHint(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "x");
        FakeManager.Handler notFound = (request, connection) -> connection.send(ServerFrame.newBuilder()
                .setError(FerryError.newBuilder().setCode(ErrorCode.NOT_FOUND)
                        .setMessage("no host named " + request.getRun().getDestination())).build());
        assertEquals(255, run(notFound, InputStream.nullInputStream(), stdout, false,
                request("notes.txt", dir.toString())));
        assertEquals("ferry: no host named notes.txt\nferry: " + RunArguments.EXPANDED_STAR + "\n", stderrText());
        manager.close();
        stderr.reset();
        assertEquals(255, run(notFound, InputStream.nullInputStream(), stdout, false, request("h9", dir.toString())));
        assertEquals("ferry: no host named h9\n", stderrText());
    }

    @Test
    void lostConnectionBeforeExitIs255() throws Exception {
        int code = run((request, connection) -> connection.send(ServerFrame.newBuilder()
                .setStdout(ByteString.copyFromUtf8("partial")).build()));
        assertEquals(255, code);
        assertEquals("partial", stdout.toString(StandardCharsets.UTF_8));
        assertTrue(stderrText().startsWith("ferry: lost the connection"), stderrText());
    }

    @Test
    void warningsAndVerboseStartAreReportedOnStderr() throws Exception {
        int code = run((request, connection) -> {
            connection.send(ServerFrame.newBuilder().setStarted(Started.newBuilder().setLhId("a1b2").setHost("h2")).build());
            connection.send(ServerFrame.newBuilder().setWarning("limits clamped").build());
            connection.send(exit(0));
        }, InputStream.nullInputStream(), stdout, true, request("*", "/"));
        assertEquals(0, code);
        assertEquals("ferry: a1b2 started on h2\nferry: warning: limits clamped\n", stderrText());
        assertEquals(0, stdout.size());
    }

    @Test
    void signalsAreForwardedWhileStdinAndTheFrameReaderAreBlocked() throws Exception {
        PipedOutputStream keepOpen = new PipedOutputStream();
        PipedInputStream neverEnding = new PipedInputStream(keepOpen);
        manager = new FakeManager((request, connection) -> {
            ClientFrame frame = connection.next();
            connection.send(exit(frame.hasSignal() ? 128 + frame.getSignal() : 1));
        });
        RunSession session = new RunSession(ManagerSocket.connect(manager.socket), neverEnding, stdout, stderr, false);
        Thread signaller = new Thread(() -> {
            try {
                manager.awaitRequest();
                Thread.sleep(100); // let the session block in its read
                session.forwardSignal(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        signaller.start();
        assertEquals(130, session.run(request("", "/")));
        signaller.join();
        keepOpen.close();
    }

    @Test
    void unreadableStdinEndsAtOnce() throws Exception {
        InputStream closed = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("Bad file descriptor");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                throw new IOException("Bad file descriptor");
            }
        };
        int code = run((request, connection) -> {
            assertTrue(connection.next().getStdinEof());
            connection.send(exit(0));
        }, closed, stdout, false, request("", "/"));
        assertEquals(0, code);
    }

    @Test
    void brokenStdoutSendsTheProgramSigpipe() throws Exception {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        int code = run((request, connection) -> {
            assertTrue(connection.next().getStdinEof());
            connection.send(ServerFrame.newBuilder().setStdout(ByteString.copyFromUtf8("one")).build());
            connection.send(ServerFrame.newBuilder().setStdout(ByteString.copyFromUtf8("two")).build());
            ClientFrame frame = connection.next();
            connection.send(exit(frame.hasSignal() ? 128 + frame.getSignal() : 1));
        }, InputStream.nullInputStream(), broken, false, request("", "/"));
        assertEquals(141, code);
        assertFalse(stderrText().contains("Broken pipe"));
    }
}
