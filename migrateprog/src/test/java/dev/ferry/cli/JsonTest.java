package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ProcessInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertEquals("\"a\\\"b\\\\c\"", Json.quote("a\"b\\c"));
        assertEquals("\"\\n\\r\\t\\b\\f\\u0001\\u001f\"", Json.quote("\n\r\t\b\f\u0001\u001f"));
        assertEquals("\"\\u2028\\u2029\"", Json.quote("\u2028\u2029"));
        assertEquals("\"Zoë 😀 /\"", Json.quote("Zoë 😀 /"));
        assertEquals("\"\\ud800x\"", Json.quote("\ud800x"), "a lone surrogate is escaped");
    }

    @Test
    void writesNumbersBooleansArraysAndNullForNonFinite() {
        String json = new Json().number("a", -5L).unsigned("b", -1L).number("c", 0.5)
                .number("d", Double.NaN).bool("e", true).strings("f", List.of("x", "y\"")).toString();
        assertEquals("{\"a\":-5,\"b\":18446744073709551615,\"c\":0.5,\"d\":null,\"e\":true,"
                + "\"f\":[\"x\",\"y\\\"\"]}", json);
        assertEquals("{}", new Json().toString());
    }

    @Test
    void logicalHostIsOneObjectWithExactlyTheDocumentedKeys() {
        LhInfo lh = LhInfo.newBuilder().setId("a1b2").setHost("h2").setUser("ann").setUid(1000)
                .setProgram("sh").setState("running").setGuest(true).setOriginHost("h1")
                .addArgv("sh").addArgv("-c").addArgv("echo \"hi\"\n")
                .addProcesses(ProcessInfo.newBuilder().setName("a1b2.2").setPid(2).setHostPid(4711)
                        .setCommand("sh -c echo").setState("sleeping"))
                .build();
        assertEquals("{\"id\":\"a1b2\",\"host\":\"h2\",\"user\":\"ann\",\"program\":\"sh\",\"state\":\"running\","
                + "\"guest\":true,\"origin_host\":\"h1\",\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\\n\"],"
                + "\"processes\":[{\"name\":\"a1b2.2\",\"pid\":2,\"host_pid\":4711,\"command\":\"sh -c echo\","
                + "\"state\":\"sleeping\"}]}", LhFormat.json(lh));
    }

    @Test
    void hostHasWhyUnwillingOnlyWhenUnwilling() {
        HostStatus willing = HostStatus.newBuilder().setHost("h1").setAddress("10.0.0.1:7000").setLoad(1.25)
                .setFreeMem(8L << 30).setGuests(2).setWilling(true).setTracker("tmux").setIdleS(30)
                .setOwnerActive(false).setWhyUnwilling("ignored").build();
        assertEquals("{\"host\":\"h1\",\"address\":\"10.0.0.1:7000\",\"load\":1.25,\"free_mem\":8589934592,"
                + "\"guests\":2,\"willing\":true,\"tracker\":\"tmux\",\"idle_s\":30.0,\"owner_active\":false}",
                HostFormat.json(willing));
        String unwilling = HostFormat.json(willing.toBuilder().setWilling(false).setWhyUnwilling("owner active").build());
        assertEquals(true, unwilling.endsWith(",\"why_unwilling\":\"owner active\"}"));
    }

    @Test
    void lhTableListsEveryProcessOnItsOwnLine() {
        LhInfo lh = LhInfo.newBuilder().setId("a1").setHost("h2").setUser("ann").setProgram("make")
                .setState("running")
                .addProcesses(ProcessInfo.newBuilder().setName("a1.2").setHostPid(100).setCommand("make"))
                .addProcesses(ProcessInfo.newBuilder().setName("a1.7").setHostPid(107).setCommand("cc\nx.c"))
                .build();
        LhInfo idle = LhInfo.newBuilder().setId("bb22").setHost("h1").setUser("bob").setProgram("sleep")
                .setState("stopped").build();
        assertEquals("""
                ID    HOST  USER  PROGRAM  STATE    PROCESSES
                a1    h2    ann   make     running  a1.2(host pid 100) make
                                                    a1.7(host pid 107) cc?x.c
                bb22  h1    bob   sleep    stopped  -
                """, LhFormat.table(List.of(lh, idle)));
    }

    @Test
    void hostTableRoundsAndSaysWhyUnwilling() {
        HostStatus h = HostStatus.newBuilder().setHost("h1").setAddress("a:1").setLoad(0.126).setFreeMem(-1L)
                .setGuests(0).setWilling(false).setIdleS(2.04).setOwnerActive(true)
                .setWhyUnwilling("owner is typing").build();
        String table = HostFormat.table(List.of(h));
        assertEquals("HOST  ADDRESS  LOAD  FREE_MEM              GUESTS  WILLING  TRACKER  IDLE_S  OWNER_ACTIVE"
                + "  WHY_UNWILLING\n"
                + "h1    a:1      0.13  18446744073709551615  0       no       -        2.0     yes"
                + "           owner is typing\n", table);
        assertEquals("-0.50", HostFormat.decimal(-0.5, 100));
        assertEquals("0.0", HostFormat.decimal(-0.01, 10));
        assertFalse(HostFormat.table(List.of()).contains("\n\n"));
    }
}
