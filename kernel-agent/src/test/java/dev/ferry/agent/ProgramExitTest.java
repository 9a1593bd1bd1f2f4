package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProgramExitTest {
    @Test
    void shellCodes() {
        assertEquals(0, ProgramExit.exited(0, "").shellCode());
        assertEquals(3, ProgramExit.exited(3 << 8, "").shellCode());
        assertEquals(137, ProgramExit.exited(9, "").shellCode());
        assertEquals(139, ProgramExit.exited(11 | 0x80, "").shellCode());
        assertEquals(127, ProgramExit.execFailed(2).shellCode());
        assertEquals(126, ProgramExit.execFailed(13).shellCode());
        assertEquals(126, ProgramExit.execFailed(8).shellCode());
        assertEquals(255, ProgramExit.launchFailure("no").shellCode());
    }

    @Test
    void descriptions() {
        assertEquals("exited with status 3", ProgramExit.exited(3 << 8, "").describe());
        assertEquals("killed by signal 9 (SIGKILL)", ProgramExit.exited(9, "").describe());
        assertEquals("killed by signal 11 (SIGSEGV), core dumped", ProgramExit.exited(11 | 0x80, "").describe());
        assertEquals("killed by signal 9 (SIGKILL) (the logical host was killed)",
                ProgramExit.exited(9, "the logical host was killed").describe());
        assertEquals("could not execute the program: Permission denied (EACCES)", ProgramExit.execFailed(13).describe());
        assertEquals("could not execute the program: error 200", ProgramExit.execFailed(200).describe());
        assertEquals("launch failed: unshare: Operation not permitted",
                ProgramExit.launchFailure("unshare: Operation not permitted").describe());
    }

    @Test
    void statusFileLines() {
        assertEquals(ProgramExit.exited(768, ""), StatusFile.parse("exited 768\n", 0));
        assertEquals(ProgramExit.execFailed(2), StatusFile.parse("exec-failed 2\n", 0));
        assertEquals(ProgramExit.launchFailure("setrlimit: Operation not permitted"),
                StatusFile.parse("launch-failed setrlimit: Operation not permitted\n", 1));
        assertEquals(137, StatusFile.parse("init-killed 9\n", 0).shellCode());
        // launcher and init killed together (cgroup.kill): nothing written, launcher died of SIGKILL
        assertEquals(ProgramExit.exited(9, "the logical host was killed"), StatusFile.parse("", 137));
        assertEquals(true, StatusFile.parse("", 1).launchFailed());
        assertEquals(true, StatusFile.parse("exited x", 0).launchFailed());
    }

    @Test
    void signalNames() {
        assertEquals("SIGTERM", Signals.name(15));
        assertEquals("SIGSYS", Signals.name(31));
        assertEquals("SIGRTMIN", Signals.name(34));
        assertEquals("SIGRTMIN+3", Signals.name(37));
        assertEquals("SIG33", Signals.name(33));
    }
}
