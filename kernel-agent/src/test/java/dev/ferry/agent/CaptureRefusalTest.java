package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.ProcessCapture;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What cannot move yet is refused with a reason, before the program is touched; it runs on. */
class CaptureRefusalTest {
    static final String PY = "/usr/bin/python3";

    @TempDir
    Path dir;
    TestLhs lhs;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir, true);
    }

    @AfterEach
    void tearDown() throws Exception {
        lhs.close();
    }

    private String refuse(String script) throws Exception {
        LaunchSpec spec = spec(PY, "-c", script);
        LaunchedLh lh = lhs.launch(spec);
        BufferedReader out = new BufferedReader(new InputStreamReader(lh.stdout()));
        assertEquals("ready", out.readLine());
        CaptureRefusedException e = assertThrows(CaptureRefusedException.class,
                () -> new ProcessCapture().capture(spec.lhId(), lh.cgroup(), AfterCapture.KILL));
        int pid = lh.programHostPid();
        String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
        assertTrue(status.contains("TracerPid:\t0"), "not traced");
        assertTrue(!lh.cgroup().frozen() && !lh.exit().isDone(), "still running");
        lh.stdin().write("go\n".getBytes());
        lh.stdin().flush();
        assertEquals("alive", out.readLine(), "the program goes on unharmed");
        assertEquals(0, TestLhs.exit(lh).shellCode());
        return e.getMessage().replace(spec.lhId() + ".2", "LH.2");
    }

    @Test
    void aTcpSocketIsRefused() throws Exception {
        String why = refuse("import socket,sys\n"
                + "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
                + "print('ready',flush=True); sys.stdin.readline(); print('alive',flush=True)");
        assertTrue(why.matches("(?s)cannot migrate LH\\.2 \\(python3\\): fd 3 is a listening/unconnected TCP socket on 127\\.0\\.0\\.1:\\d+.*"),
                why);
    }

    @Test
    void twoThreadsAreRefused() throws Exception {
        String why = refuse("import threading,sys,time\n"
                + "threading.Thread(target=lambda: time.sleep(60), daemon=True).start()\n"
                + "print('ready',flush=True); sys.stdin.readline(); print('alive',flush=True)");
        assertTrue(why.contains("cannot migrate LH.2 (python3): it has 2 threads"), why);
    }

    @Test
    void anEventfdIsRefused() throws Exception {
        String why = refuse("import os,sys\n"
                + "fd=os.eventfd(0)\n"
                + "print('ready',flush=True); sys.stdin.readline(); print('alive',flush=True)");
        assertTrue(why.contains("cannot migrate LH.2 (python3): fd 3 is an eventfd"), why);
    }
}
