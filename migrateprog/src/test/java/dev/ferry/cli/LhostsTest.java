package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.ControlAction;
import dev.ferry.proto.v1.ControlReply;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.HostsReply;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ListReply;
import dev.ferry.proto.v1.LocalRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class LhostsTest {
    private static final LhInfo LH = LhInfo.newBuilder().setId("a1").setHost("h2").setUser("ann")
            .setProgram("sleep").setState("running").addArgv("sleep").addArgv("9").build();

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

    private int lhosts(FakeManager.Handler handler, String... args) throws Exception {
        manager = new FakeManager(handler);
        return new Lhosts(manager.socket, stdout, stderr).execute(args);
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    @Test
    void listPrintsOneJsonObjectPerLogicalHost() throws Exception {
        int code = lhosts((request, connection) -> {
            assertEquals(LocalRequest.KindCase.LIST, request.getKindCase());
            connection.channel.send(ListReply.newBuilder().addLhs(LH).addLhs(LH.toBuilder().setId("b2")).build());
        }, "--json");
        assertEquals(0, code);
        String[] lines = out().split("\n");
        assertEquals(2, lines.length);
        assertEquals(LhFormat.json(LH), lines[0]);
        assertTrue(lines[1].startsWith("{\"id\":\"b2\","));
        assertEquals("", err());
    }

    @Test
    void hostsThatDidNotAnswerAreNamedAndMakeTheExitCode1() throws Exception {
        int code = lhosts((request, connection) -> connection.channel.send(ListReply.newBuilder().addLhs(LH)
                .addErrors(FerryError.newBuilder().setCode(ErrorCode.DEADLINE_EXCEEDED).setMessage("h3 did not answer"))
                .build()));
        assertEquals(1, code);
        assertTrue(out().startsWith("ID  HOST  USER  PROGRAM  STATE    PROCESSES\na1  h2"), out());
        assertEquals("ferry: h3 did not answer\n", err());
    }

    @Test
    void hostsListing() throws Exception {
        int code = lhosts((request, connection) -> {
            assertEquals(LocalRequest.KindCase.HOSTS, request.getKindCase());
            connection.channel.send(HostsReply.newBuilder()
                    .addHosts(HostStatus.newBuilder().setHost("h1").setWilling(true)).build());
        }, "--hosts", "--json");
        assertEquals(0, code);
        assertTrue(out().startsWith("{\"host\":\"h1\",") && out().endsWith("\"owner_active\":false}\n"), out());
    }

    @Test
    void controlPrintsNothingWhenDone() throws Exception {
        int code = lhosts((request, connection) -> {
            assertEquals(ControlAction.STOP, request.getControl().getAction());
            assertEquals("a1", request.getControl().getLhId());
            connection.channel.send(ControlReply.newBuilder().setHost("h2").build());
        }, "stop", "a1");
        assertEquals(0, code);
        assertEquals("", out() + err());
    }

    @Test
    void controlFailuresAreNamedAndTheWorstDecidesTheExitCode() throws Exception {
        int code = lhosts((request, connection) -> {
            String id = request.getControl().getLhId();
            ControlReply.Builder reply = ControlReply.newBuilder();
            if (id.equals("gone")) {
                reply.setError(FerryError.newBuilder().setCode(ErrorCode.NOT_FOUND).setMessage("no LH gone"));
            } else if (id.equals("theirs")) {
                reply.setError(FerryError.newBuilder().setCode(ErrorCode.PERMISSION_DENIED).setMessage("not yours"));
            }
            connection.channel.send(reply.build());
        }, "kill", "gone", "a1", "theirs");
        assertEquals(1, code);
        assertEquals("ferry: gone: no LH gone\nferry: theirs: not yours\n", err());
        assertEquals(3, manager.requests.size());
        assertEquals(255, Lhosts.exitCodeOf(ErrorCode.INTERNAL));
        assertEquals(1, Lhosts.exitCodeOf(ErrorCode.FAILED_PRECONDITION));
    }

    @Test
    void usageErrorsExit2WithAUsageLine() throws Exception {
        int code = lhosts((request, connection) -> { }, "kill");
        assertEquals(2, code);
        assertTrue(err().endsWith(LhostsArguments.USAGE + "\n"), err());
        assertTrue(manager.requests.isEmpty());
    }

    @Test
    void unreachableManagerIs255() {
        int code = new Lhosts(Path.of("/nonexistent/ferry-test/pm.sock"), stdout, stderr).execute(new String[0]);
        assertEquals(255, code);
        assertEquals("ferry: cannot reach the program manager at /nonexistent/ferry-test/pm.sock (is it running?"
                + " start it with bin/program-manager or set FERRY_SOCKET)\n", err());
    }

    @Test
    void connectionClosedWithoutAnswerIs255() throws Exception {
        int code = lhosts((request, connection) -> { });
        assertEquals(255, code);
        assertTrue(err().startsWith("ferry: lost the connection"), err());
    }
}
