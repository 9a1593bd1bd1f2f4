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
        return refuse(script, false);
    }

    /** {@code live}: as a live migration asks ({@link ProcessCapture#check}), else as a checkpoint. */
    private String refuse(String script, boolean live) throws Exception {
        LaunchSpec spec = spec(PY, "-c", script);
        LaunchedLh lh = lhs.launch(spec);
        BufferedReader out = new BufferedReader(new InputStreamReader(lh.stdout()));
        assertEquals("ready", out.readLine());
        CaptureRefusedException e = assertThrows(CaptureRefusedException.class, () -> {
            if (live) {
                new ProcessCapture().check(spec.lhId(), lh.cgroup());
            } else {
                new ProcessCapture().capture(spec.lhId(), lh.cgroup(), AfterCapture.KILL);
            }
        });
        int pid = lh.programHostPid();
        String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
        assertTrue(status.contains("TracerPid:\t0"), "not traced");
        assertTrue(!lh.cgroup().frozen() && !lh.exit().isDone(), "still running");
        lh.stdin().write("go\n".getBytes());
        lh.stdin().flush();
        assertEquals("alive", out.readLine(), "the program goes on unharmed");
        assertEquals(0, TestLhs.exit(lh).shellCode());
        return e.getMessage().replace(spec.lhId() + ".", "LH.");
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
    void aProgramStoppedBySigstopIsRefusedAndStaysStopped() throws Exception {
        LaunchSpec spec = spec(PY, "-c", "import sys\n" + WAIT);
        LaunchedLh lh = lhs.launch(spec);
        BufferedReader out = new BufferedReader(new InputStreamReader(lh.stdout()));
        assertEquals("ready", out.readLine());
        Path status = Path.of("/proc", Integer.toString(lh.programHostPid()), "status");
        lh.signalGroup(19);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> Files.readString(status).contains("State:\tT"));
        CaptureRefusedException e = assertThrows(CaptureRefusedException.class,
                () -> new ProcessCapture().capture(spec.lhId(), lh.cgroup(), AfterCapture.KILL));
        assertTrue(e.getMessage().contains("it is stopped by a signal"), e.getMessage());
        assertTrue(Files.readString(status).contains("State:\tT"), "still stopped, as its user left it");
        lh.signalGroup(18);
        lh.stdin().write("go\n".getBytes());
        lh.stdin().flush();
        assertEquals("alive", out.readLine());
        assertEquals(0, TestLhs.exit(lh).shellCode());
    }

    void anEventfdIsRefused() throws Exception {
        String why = refuse("import os,sys\n"
                + "fd=os.eventfd(0)\n"
                + "print('ready',flush=True); sys.stdin.readline(); print('alive',flush=True)");
        assertTrue(why.contains("cannot migrate LH.2 (python3): fd 3 is an eventfd (anon_inode:[eventfd]), which cannot be carried yet"), why);
    }

    private static final String WAIT = "print('ready',flush=True); sys.stdin.readline(); print('alive',flush=True)";

    /** Checkpoints take them; live migration does not yet. */
    @Test
    void aSecondProcessIsRefusedForLiveMigrationNamingTheFirst() throws Exception {
        String why = refuse("import os,sys,time\n"
                + "if os.fork() == 0:\n    time.sleep(60); os._exit(0)\n"
                + WAIT, true);
        assertTrue(why.matches("cannot migrate LH\\.2 \\(python3\\): its logical host has 2 processes \\(2 python3, 3 python3\\);"
                + " logical hosts of several processes can be checkpointed, not yet moved live"), why);
    }

    /** A process whose parent has gone cannot have its old session or group rebuilt yet. */
    @Test
    void aSessionWhoseLeaderEndedIsRefused() throws Exception {
        String why = refuse("import os,sys,time\n"
                + "if os.fork() == 0:\n"
                + "    os.setsid()\n"
                + "    if os.fork() == 0:\n        time.sleep(60); os._exit(0)\n"
                + "    os._exit(0)\n"
                + "time.sleep(0.3)\n"
                + WAIT);
        assertTrue(why.contains("cannot migrate LH.4 (python3): its session 3 is neither its parent's nor its own (its leader has ended)"),
                why);
    }

    @Test
    void sysvSharedMemoryIsRefused() throws Exception {
        // IPC_RMID at once: the segment goes with the process, whatever happens to the test
        String why = refuse("import ctypes,sys\n"
                + "libc=ctypes.CDLL(None,use_errno=True); libc.shmat.restype=ctypes.c_void_p\n"
                + "i=libc.shmget(0,8192,0o1600); assert i>=0; assert libc.shmat(i,None,0) not in (None,2**64-1)\n"
                + "libc.shmctl(i,0,None)\n"
                + WAIT);
        assertTrue(why.matches("(?s)cannot migrate LH\\.2 \\(python3\\): memory [0-9a-f]+-[0-9a-f]+ is SysV shared memory "
                + "\\(shmid \\d+\\), which cannot be carried yet.*"), why);
    }

    @Test
    void posixSharedMemoryIsRefused() throws Exception {
        Path shm = Path.of("/dev/shm", "ferry-test-" + java.util.UUID.randomUUID());
        try {
            String why = refuse("import os,sys,mmap\n"
                    + "fd=os.open('" + shm + "',os.O_CREAT|os.O_RDWR,0o600); os.ftruncate(fd,4096)\n"
                    + "m=mmap.mmap(fd,4096); m[0]=1; os.close(fd)\n"   // mmap keeps its own fd
                    + WAIT);
            assertTrue(why.matches("(?s)cannot migrate LH\\.2 \\(python3\\): fd \\d+ is POSIX shared memory " + shm
                    + ", which cannot be carried yet.*"), why);
            assertTrue(why.matches("(?s).*cannot migrate LH\\.2 \\(python3\\): memory [0-9a-f]+-[0-9a-f]+ is POSIX shared memory "
                    + shm + ", which cannot be carried yet.*"), why);
        } finally {
            Files.deleteIfExists(shm);
        }
    }

    /** Checkpoints carry memfds and shared anonymous memory; live migration does not yet. */
    @Test
    void aMemfdIsRefusedForLiveMigration() throws Exception {
        String why = refuse("import os,sys,mmap\n"
                + "fd=os.memfd_create('ferry-test'); os.ftruncate(fd,4096); m=mmap.mmap(fd,4096); m[0]=1\n"
                + WAIT, true);
        assertEquals("cannot migrate LH.2 (python3): it has 1 shared memory object(s) (MAP_SHARED anonymous memory or memfds),"
                + " which can be checkpointed, not yet moved live", why);
    }

    @Test
    void aPtyMasterIsRefused() throws Exception {
        String why = refuse("import os,sys\n"
                + "fd=os.open('/dev/ptmx',os.O_RDWR|os.O_NOCTTY)\n"
                + WAIT);
        assertTrue(why.contains("cannot migrate LH.2 (python3): fd 3 is the device /dev/ptmx (character device 5:2), "
                + "whose kernel state cannot be carried"), why);
    }

    @Test
    void aDeletedOpenFileIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("soon-deleted.txt"), "data");
        String why = refuse("import os,sys\n"
                + "f=open('" + file + "'); os.unlink('" + file + "')\n"
                + WAIT);
        assertTrue(why.contains("cannot migrate LH.2 (python3): fd 3 is the deleted file " + file
                + ", which cannot be carried (only files that still exist are reopened)"), why);
    }
}
