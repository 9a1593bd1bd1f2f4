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
