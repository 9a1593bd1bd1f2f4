package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TerminalForegroundTest {
    // pid (comm) state ppid pgrp session tty_nr tpgid ...
    private static String stat(String comm, int pgrp, int ttyNr, int tpgid) {
        return "4711 (" + comm + ") S 1 " + pgrp + " " + pgrp + " " + ttyNr + " " + tpgid + " 4194304 0 0 0\n";
    }

    @Test
    void foregroundWhenTheTerminalsGroupIsOurs() {
        assertTrue(TerminalForeground.isForeground(stat("java", 100, 34816, 100)));
        assertFalse(TerminalForeground.isForeground(stat("java", 100, 34816, 200)));
        assertTrue(TerminalForeground.isForeground(stat("java", 100, 0, -1)), "no terminal at all");
    }

    @Test
    void fieldsAreCountedAfterTheCommandName() {
        String odd = stat("a) b (c", 100, 34817, 7);
        assertEquals(100, TerminalForeground.field(odd, TerminalForeground.PGRP));
        assertEquals(34817, TerminalForeground.field(odd, TerminalForeground.TTY_NR));
        assertEquals(7, TerminalForeground.field(odd, TerminalForeground.TPGID));
    }

    @Test
    void readsThisProcess() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        assertEquals(ProcessHandle.current().pid(), Long.parseLong(stat.substring(0, stat.indexOf(' '))));
        TerminalForeground.field(stat, TerminalForeground.TPGID);
        assertFalse(TerminalForeground.stdinIsControllingTerminal(), "surefire's stdin is a pipe");
    }
}
