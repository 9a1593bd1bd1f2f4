package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcFsTest {
    /** A program in an LH, seen from the host: two pid levels. */
    static final String STATUS = """
            Name:\tsh
            Umask:\t0022
            State:\tS (sleeping)
            Tgid:\t4242
            Ngid:\t0
            Pid:\t4242
            PPid:\t4241
            TracerPid:\t0
            Uid:\t65534\t65534\t65534\t65534
            Gid:\t100\t100\t100\t100
            FDSize:\t64
            Groups:\t100
            NStgid:\t4242\t2
            NSpid:\t4242\t2
            NSpgid:\t4242\t2
            NSsid:\t4240\t0
            VmPeak:\t    2580 kB
            """;

    @Test
    void parsesStatus() {
        ProcStatus s = ProcFs.parseStatus(STATUS);
        assertEquals("sh", s.name());
        assertEquals('S', s.state());
        assertEquals(4241, s.ppid());
        assertArrayEquals(new int[] {4242, 2}, s.nsPids());
        assertEquals(2, s.innermostPid());
        assertEquals(4242, s.outermostPid());
        assertEquals(65534, s.uid());
        assertEquals(100, s.gid());
        assertEquals(s, ProcFs.parseStatus(STATUS));
    }

    @Test
    void statusWithoutNsPidFallsBackToPidAndNameMayHoldSpaces() {
        ProcStatus s = ProcFs.parseStatus("Name:\tmy prog\nState:\tR (running)\nPid:\t7\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
        assertEquals("my prog", s.name());
        assertEquals(7, s.innermostPid());
        assertThrows(IllegalArgumentException.class, () -> ProcFs.parseStatus("garbage"));
    }

    @Test
    void parsesProcessGroupFromStatEvenWithParenthesesInTheName() {
        assertEquals(77, ProcFs.parseStatProcessGroup("80 (a) b (c)) S 79 77 70 0 -1 4194560 100 0"));
    }

    @Test
    void parsesCmdlineLoadAndMemory() {
        assertEquals("sh -c echo hi", ProcFs.parseCmdline("sh\0-c\0echo hi\0"));
        assertEquals(0.42, ProcFs.parseLoadAverage1("0.42 0.30 0.25 2/345 6789\n"));
        assertEquals(123456L * 1024, ProcFs.parseMemAvailable("MemTotal:  999 kB\nMemFree:  1 kB\nMemAvailable:     123456 kB\n"));
    }

    @Test
    void readsAFixtureTreeAndTreatsMissingProcessesAsGone(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("4242"));
        Files.writeString(root.resolve("4242/status"), STATUS);
        Files.writeString(root.resolve("4242/cmdline"), "sleep\0" + "30\0");
        Files.writeString(root.resolve("4242/stat"), "4242 (sleep) S 4241 4242 4240 0");
        Files.writeString(root.resolve("loadavg"), "1.50 1.00 0.50 1/100 4242\n");
        Files.writeString(root.resolve("meminfo"), "MemAvailable:  2048 kB\n");
        ProcFs proc = new ProcFs(root);
        assertEquals(2, proc.status(4242).orElseThrow().innermostPid());
        assertEquals("sleep 30", proc.cmdline(4242));
        assertEquals(4242, proc.processGroup(4242).getAsInt());
        assertEquals(1.5, proc.loadAverage1());
        assertEquals(2048 * 1024, proc.memAvailableBytes());
        assertEquals(Optional.empty(), proc.status(9999));
        assertEquals("", proc.cmdline(9999));
        assertTrue(proc.processGroup(9999).isEmpty());
    }

    @Test
    void readsTheRealProc() {
        ProcStatus self = ProcFs.host().status((int) ProcessHandle.current().pid()).orElseThrow();
        assertEquals((int) ProcessHandle.current().pid(), self.outermostPid());
        assertTrue(ProcFs.host().memAvailableBytes() > 0);
        assertTrue(ProcFs.host().loadAverage1() >= 0);
    }
}
