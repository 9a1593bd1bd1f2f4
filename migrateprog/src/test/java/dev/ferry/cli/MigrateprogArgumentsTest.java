package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.CheckpointResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrateprogArgumentsTest {
    @Test
    void checkpointTakesOneTargetAndItsOptions() throws Exception {
        MigrateprogArguments a = MigrateprogArguments.parse(List.of("--checkpoint", "/tmp/x", "--leave-running", "--json", "python3"));
        assertEquals("/tmp/x", a.checkpointDir());
        assertTrue(a.leaveRunning());
        assertTrue(a.json());
        assertEquals(List.of("python3"), a.targets());
        assertEquals("d", MigrateprogArguments.parse(List.of("--checkpoint=d", "abc")).checkpointDir());
    }

    @Test
    void refusesWhatDoesNotGoTogether() {
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--checkpoint", "/d")));
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--checkpoint", "/d", "a", "b")));
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--checkpoint", "/d", "-n", "a")));
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--leave-running", "a")));
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--checkpoint")));
        assertThrows(UsageException.class, () -> MigrateprogArguments.parse(List.of("--bogus")));
    }

    @Test
    void migrationOptionsParse() throws Exception {
        MigrateprogArguments a = MigrateprogArguments.parse(List.of("-n", "--to", "*", "--no-precopy", "sort"));
        assertTrue(a.destroyIfStuck());
        assertEquals("*", a.to());
        assertTrue(a.noPrecopy());
        assertEquals(List.of("sort"), a.targets());
        assertEquals("auto", a.progress());
        assertEquals("on", MigrateprogArguments.parse(List.of("--progress", "sort")).progress());
        assertEquals("off", MigrateprogArguments.parse(List.of("--quiet")).progress());
    }

    @Test
    void migrationJsonHasTheIssueKeysAndTheRoundDetails() {
        String line = Migrateprog.json(dev.ferry.proto.v1.MigrateResult.newBuilder().setLhId("abc").setProgram("churn")
                .setFrom("h1").setTo("h2").setRounds(2).setBytes(1000).setFreezeMs(12.5).setTotalMs(900).setMoved(true)
                .addAllRoundPages(List.of(10L, 3L, 1L)).setResidentBytes(40960).setTracker("uffd-wp").build());
        assertEquals("{\"lh\":\"abc\",\"program\":\"churn\",\"from\":\"h1\",\"to\":\"h2\",\"rounds\":2,\"bytes\":1000,"
                + "\"freeze_ms\":12.5,\"total_ms\":900.0,\"moved\":true,\"destroyed\":false,\"round_pages\":[10,3,1],"
                + "\"resident_bytes\":40960,\"tracker\":\"uffd-wp\"}", line);
    }

    @Test
    void jsonLineHasTheDocumentedKeys() {
        String line = Migrateprog.json(CheckpointResult.newBuilder().setLhId("abc").setProgram("bc").setHost("h2")
                .setDir("/tmp/i").setBytes(4096).setFreezeMs(12.3456).setTotalMs(20).setLeftRunning(false).build());
        assertEquals("{\"lh\":\"abc\",\"program\":\"bc\",\"from\":\"h2\",\"dir\":\"/tmp/i\",\"bytes\":4096,"
                + "\"freeze_ms\":12.346,\"total_ms\":20.0,\"left_running\":false}", line);
    }

    @Test
    void usageErrorsExitTwo() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = new Migrateprog(java.nio.file.Path.of("/nonexistent.sock"), new java.io.ByteArrayOutputStream(), err)
                .execute(new String[] {"--checkpoint"});
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("ferry: --checkpoint needs a directory"), err.toString());
    }
}
