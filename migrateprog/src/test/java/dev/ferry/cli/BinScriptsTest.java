package dev.ferry.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ListReply;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.Rlimit;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The real bin/run and bin/lhosts, in subprocesses, against a fake manager. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BinScriptsTest {
    private static LauncherFixture fixture;
    private FakeManager manager;
    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void layOutCheckout() throws Exception {
        fixture = new LauncherFixture();
    }

    @AfterAll
    static void removeCheckout() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process process : processes) {
            process.destroyForcibly().waitFor();
        }
        if (manager != null) {
            manager.close();
            assertTrue(manager.failures.isEmpty(), () -> "fake manager failed: " + manager.failures);
        }
    }

    private Process start(Map<String, String> env, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("FERRY_") || name.contains("JAVA_"));
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    @Test
    void runSendsTheCallersContextAndRelaysStreamsAndExitCode(@TempDir Path dir) throws Exception {
        manager = new FakeManager((request, connection) -> {
            while (true) {
                ClientFrame frame = connection.next();
                if (frame.hasStdinEof()) {
                    break;
                }
                connection.send(ServerFrame.newBuilder().setStdout(frame.getStdin()).build());
            }
            connection.send(ServerFrame.newBuilder().setStderr(ByteString.copyFromUtf8("to stderr")).build());
            connection.send(ServerFrame.newBuilder().setExit(ExitStatus.newBuilder().setCode(7)).build());
        });
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        String shell = "ulimit -S -n 200 && umask 027 && cd " + link + " && exec " + fixture.script("run")
                + " sh -c 'cat; exit 7' @ h2";
        Process run = start(Map.of("FERRY_SOCKET", manager.socket.toString(), "FERRY_TEST_VAR", "hello world",
                "JAVA_TOOL_OPTIONS", "-Dferry.test=1"), "/bin/bash", "-c", shell);
        byte[] input = new byte[300_000];
        new Random(7).nextBytes(input);
        Thread feeder = new Thread(() -> {
            try (OutputStream stdin = run.getOutputStream()) {
                stdin.write(input);
            } catch (IOException e) {
                // the test fails on the output comparison
            }
        });
        feeder.start();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread errReader = new Thread(() -> {
            try {
                run.getErrorStream().transferTo(stderr);
            } catch (IOException e) {
                // compared below
            }
        });
        errReader.start();
        byte[] output = readAll(run.getInputStream());
        assertEquals(7, run.waitFor());
        errReader.join();
        feeder.join();
        assertArrayEquals(input, output);
        assertEquals("to stderr", stderr.toString(StandardCharsets.UTF_8), "no JVM chatter on stderr");

        RunRequest request = manager.requests.get(0).getRun();
        assertEquals("h2", request.getDestination());
        ProgramSpec spec = request.getSpec();
        assertEquals(List.of("sh", "-c", "cat; exit 7"), spec.getArgvList());
        assertEquals(link.toString(), spec.getCwd(), "the shell's logical directory");
        assertEquals(027, spec.getUmask());
        Rlimit nofile = spec.getRlimitsList().stream().filter(l -> l.getResource() == 7).findFirst().orElseThrow();
        assertEquals(200, nofile.getSoft(), "the shell's open-files limit, not the JVM's");
        assertEquals(16, spec.getRlimitsCount());
        assertTrue(spec.getEnvList().contains("FERRY_TEST_VAR=hello world"), spec.getEnvList().toString());
        assertTrue(spec.getEnvList().contains("JAVA_TOOL_OPTIONS=-Dferry.test=1"), "given back to the program");
        assertFalse(spec.getEnvList().stream().anyMatch(e -> e.startsWith("FERRY_CALLER_")));
    }

    @Test
    void signalsAreForwardedAndTstpStopsRunUntilCont() throws Exception {
        List<Integer> signals = new CopyOnWriteArrayList<>();
        manager = new FakeManager((request, connection) -> {
            while (true) {
                ClientFrame frame = connection.next();
                if (frame.hasSignal()) {
                    signals.add(frame.getSignal());
                    if (frame.getSignal() == 15) {
                        connection.send(ServerFrame.newBuilder()
                                .setExit(ExitStatus.newBuilder().setCode(143)).build());
                        return;
                    }
                }
            }
        });
        // env: give run default INT/QUIT handling even when this test runs in a background job.
        Process run = start(Map.of("FERRY_SOCKET", manager.socket.toString()), "/usr/bin/env",
                "--default-signal=INT,QUIT,HUP,TERM,TSTP,CONT", fixture.script("run").toString(), "sleep", "100");
        manager.awaitRequest();
        long pid = run.pid();
        kill("INT", pid);
        await().atMost(Duration.ofSeconds(10)).until(() -> signals.equals(List.of(2)));
        kill("HUP", pid);
        await().atMost(Duration.ofSeconds(10)).until(() -> signals.equals(List.of(2, 1)));
        kill("TSTP", pid);
        await().atMost(Duration.ofSeconds(10)).until(() -> signals.size() == 3 && state(pid) == 'T');
        kill("CONT", pid);
        await().atMost(Duration.ofSeconds(10)).until(() -> signals.size() == 4 && state(pid) != 'T');
        kill("TERM", pid);
        assertTrue(run.waitFor(10, TimeUnit.SECONDS));
        assertEquals(143, run.exitValue());
        assertEquals(List.of(2, 1, 20, 18, 15), signals);
    }

    @Test
    void unreachableManagerAndExpandedStarExit255() throws Exception {
        Process run = start(Map.of("FERRY_SOCKET", "/nonexistent/ferry-test.sock"),
                fixture.script("run").toString(), "true");
        assertEquals(255, run.waitFor());
        assertEquals("ferry: cannot reach the program manager at /nonexistent/ferry-test.sock (is it running?"
                + " start it with bin/program-manager or set FERRY_SOCKET)\n", new String(readAll(run.getErrorStream())));
        Process star = start(Map.of(), fixture.script("run").toString(), "true", "@", "a.txt", "b.txt");
        assertEquals(255, star.waitFor());
        assertTrue(new String(readAll(star.getErrorStream())).startsWith(
                "ferry: '@ *' was expanded by your shell; quote it: @ '*' (or use @any)\n"));
    }

    @Test
    void closedStdinIsAnEmptyInputAndTheClassArchiveIsMade() throws Exception {
        manager = new FakeManager((request, connection) -> {
            ClientFrame first = connection.next();
            connection.send(ServerFrame.newBuilder()
                    .setExit(ExitStatus.newBuilder().setCode(first.hasStdinEof() ? 0 : 1)).build());
        });
        Process run = start(Map.of("FERRY_SOCKET", manager.socket.toString()), "/bin/bash", "-c",
                "exec " + fixture.script("run") + " cat <&-");
        assertEquals(0, run.waitFor());
        assertTrue(Files.size(fixture.home.resolve("migrateprog/target/cds/migrateprog.jsa")) > 0);
    }

    @Test
    void lhostsListsAsJsonAndRejectsBadUsage() throws Exception {
        LhInfo lh = LhInfo.newBuilder().setId("a1").setHost("h2").setUser("ann").setProgram("sleep")
                .setState("running").build();
        manager = new FakeManager((request, connection) ->
                connection.channel.send(ListReply.newBuilder().addLhs(lh).build()));
        Process lhosts = start(Map.of("FERRY_SOCKET", manager.socket.toString()),
                fixture.script("lhosts").toString(), "--json");
        assertEquals(LhFormat.json(lh) + "\n", new String(readAll(lhosts.getInputStream()), StandardCharsets.UTF_8));
        assertEquals(0, lhosts.waitFor());
        Process usage = start(Map.of(), fixture.script("lhosts").toString(), "kill");
        assertEquals(2, usage.waitFor());
    }

    private static void kill(String signal, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor());
    }

    /** The state letter in /proc/PID/stat (after the parenthesized command name). */
    private static char state(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }
}
