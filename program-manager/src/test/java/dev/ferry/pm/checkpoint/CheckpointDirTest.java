package dev.ferry.pm.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs as root (like the manager) and acts for root and for "nobody" (65534). */
class CheckpointDirTest {
    private static final Caller ROOT = Caller.newBuilder().setUid(0).setGid(0).setUser("root").build();
    private static final Caller NOBODY = Caller.newBuilder().setUid(65534).setGid(65534).setUser("nobody").build();

    @TempDir
    Path tmp;

    @Test
    void createsTheDirectoryForTheCallerPrivately() throws Exception {
        Files.setAttribute(tmp, "unix:mode", 01777); // like /tmp: sticky and world-writable
        CheckpointDir dir = CheckpointDir.forWriting(tmp.resolve("img").toString(), NOBODY);
        assertEquals(65534, Files.getAttribute(dir.path(), "unix:uid"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.path())));
    }

    @Test
    void refusesWhatTheCallerCouldNotWriteItself() throws Exception {
        Path rootOnly = Files.createDirectory(tmp.resolve("root-only"));
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        FerryException e = assertThrows(FerryException.class,
                () -> CheckpointDir.forWriting(rootOnly.resolve("img").toString(), NOBODY));
        assertEquals(ErrorCode.PERMISSION_DENIED, e.code());
        assertFalse(Files.exists(rootOnly.resolve("img")));
        assertEquals(ErrorCode.INVALID_ARGUMENT,
                assertThrows(FerryException.class, () -> CheckpointDir.forWriting("relative/dir", ROOT)).code());
    }

    @Test
    void refusesToOverwriteAnImageAndReadsOnlyTheOwnersImages() throws Exception {
        CheckpointDir dir = CheckpointDir.forWriting(tmp.resolve("img").toString(), ROOT);
        dir.writeMeta(CheckpointMeta.newBuilder().setFormatVersion(CheckpointDir.META_VERSION).setLhId("abc").setOwner(ROOT).build());
        assertEquals(ErrorCode.FAILED_PRECONDITION, assertThrows(FerryException.class,
                () -> CheckpointDir.forWriting(dir.path().toString(), ROOT)).code());
        assertEquals("abc", CheckpointDir.forReading(dir.path().toString(), ROOT).readMeta().getLhId());
        assertEquals(ErrorCode.PERMISSION_DENIED, assertThrows(FerryException.class,
                () -> CheckpointDir.forReading(dir.path().toString(), NOBODY)).code());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(FerryException.class,
                () -> CheckpointDir.forReading(tmp.toString(), ROOT)).code());
    }

    @Test
    void onlyTheFirstRestartClaimsTheImage() throws Exception {
        CheckpointDir dir = CheckpointDir.forWriting(tmp.resolve("img").toString(), ROOT);
        assertTrue(dir.claimFirstRestart());
        assertFalse(dir.claimFirstRestart());
    }

    @Test
    void discardRemovesTheImageFilesAndTheDirectoryItCreated() throws Exception {
        CheckpointDir dir = CheckpointDir.forWriting(tmp.resolve("img").toString(), ROOT);
        Files.writeString(dir.path().resolve("pages.bin"), "x");
        Files.writeString(dir.path().resolve("pages.1.bin"), "yy");
        assertEquals(3, dir.pageBytes());
        dir.discard();
        assertFalse(Files.exists(dir.path()));

        Path existing = Files.createDirectory(tmp.resolve("mine"));
        Files.writeString(existing.resolve("notes.txt"), "keep me");
        CheckpointDir reused = CheckpointDir.forWriting(existing.toString(), ROOT);
        Files.writeString(reused.path().resolve("lh.img"), "partial");
        reused.discard();
        assertTrue(Files.exists(existing.resolve("notes.txt")), "files that are not the image's stay");
        assertFalse(Files.exists(existing.resolve("lh.img")));
    }
}
