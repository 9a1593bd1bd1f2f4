package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open files, mapped files and memory flags across a checkpoint to files and a restart: a
 * python3 program sets something up, says "ready", is checkpointed (and killed) while it waits
 * for a line on stdin, is restarted, gets "go" and reports what it finds.
 */
class PythonStateCheckpointTest {
    static final String PY = "/usr/bin/python3";
    static final String WAIT = "print('ready',flush=True); sys.stdin.readline()\n";

    @TempDir
    Path dir;
    TestLhs lhs;
    LaunchedLh original;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
    }

    @AfterEach
    void tearDown() throws Exception {
        lhs.close();
    }

    String readyLine;

    /** Starts {@code script}, waits for "ready", checkpoints it into dir/image (killing it) and returns the image. */
    private LhImage checkpointWhenReady(LaunchSpec spec, Runnable beforeCapture) throws Exception {
        original = lhs.launch(spec);
        BufferedReader out = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
        readyLine = out.readLine();
        assertTrue(readyLine != null && readyLine.startsWith("ready"), readyLine);
        beforeCapture.run();
        LhImage image = new ProcessCapture().captureTo(spec.lhId(), original.cgroup(), AfterCapture.KILL, dir.resolve("image"), false);
        assertTrue(TestLhs.exit(original).signalled(), TestLhs.exit(original).describe());
        return image;
    }

    /** Restarts dir/image, sends "go" and returns what the program prints until it ends (exit 0). */
    private String restartAndGo(LaunchSpec spec) throws Exception {
        LaunchedLh restored = lhs.launcher.restore(spec.lhId(), dir.resolve("image"));
        try {
            var out = TestLhs.readAll(restored.stdout());
            restored.stdin().write("go\n".getBytes(StandardCharsets.US_ASCII));
            restored.stdin().close();
            String text = out.get(20, TimeUnit.SECONDS);
            assertEquals(0, TestLhs.exit(restored).shellCode(), TestLhs.exit(restored).describe() + ": " + text);
            return text;
        } finally {
            restored.cgroup().killAll();
            restored.exit().get(10, TimeUnit.SECONDS);
            restored.cgroup().remove();
        }
    }

    @Test
    void aPrivatePipeKeepsItsUnreadBytesCapacityFlagsAndDup() throws Exception {
        LaunchSpec spec = spec(PY, "-c", "import os,sys,fcntl\n"
                + "r,w=os.pipe(); fcntl.fcntl(w,1031,1<<20)\n"   // F_SETPIPE_SZ: 1 MiB
                + "data=bytes(range(256))*400; assert os.write(w,data)==len(data)\n"
                + "w2=os.dup(w); os.set_blocking(r,False)\n"
                + WAIT
                + "got=b''\n"
                + "while True:\n"
                + "    try: got+=os.read(r,1<<20)\n"
                + "    except BlockingIOError: break\n"
                + "os.write(w2,b'after')\n"
                + "print('pipe',r,w,w2,got==data,len(got),fcntl.fcntl(r,1032),os.get_blocking(r),os.get_blocking(w),"
                + "os.get_inheritable(w2),os.fstat(r).st_ino==os.fstat(w2).st_ino,os.read(r,10))\n");
        LhImage image = checkpointWhenReady(spec, () -> { });
        assertEquals(1, image.getPipesCount());
        assertEquals(102400, image.getPipes(0).getBuffered().size());
        assertEquals(1 << 20, image.getPipes(0).getCapacity());
        assertEquals("pipe 3 4 5 True 102400 1048576 False True False True b'after'\n", restartAndGo(spec));
    }

    @Test
    void statelessDevicesAreReopened() throws Exception {
        LaunchSpec spec = spec(PY, "-c", "import os,sys,errno\n"
                + "n=os.open('/dev/null',os.O_WRONLY); z=os.open('/dev/zero',os.O_RDONLY)\n"
                + "u=os.open('/dev/urandom',os.O_RDONLY); f=os.open('/dev/full',os.O_WRONLY|os.O_APPEND)\n"
                + WAIT
                + "try: os.write(f,b'x'); full='written'\n"
                + "except OSError as e: full=errno.errorcode[e.errno]\n"
                + "print('devices',n,z,u,f,os.write(n,b'abc'),os.read(z,4),len(os.read(u,16)),full,"
                + "[os.readlink('/proc/self/fd/%d'%x) for x in (n,z,u,f)])\n");
        checkpointWhenReady(spec, () -> { });
        assertEquals("devices 3 4 5 6 3 b'\\x00\\x00\\x00\\x00' 16 ENOSPC ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/full']\n",
                restartAndGo(spec));
    }

    @Test
    void hugePagesStayHuge() throws Exception {
        // 16 MiB with MADV_HUGEPAGE, touched: smaps shows hg and AnonHugePages for it
        LaunchSpec spec = spec(PY, "-c", "import mmap,sys,ctypes,re\n"
                + "m=mmap.mmap(-1,16<<20,flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS); m.madvise(mmap.MADV_HUGEPAGE)\n"
                + "for i in range(0,16<<20,4096): m[i]=i>>12&255\n"
                + "addr=ctypes.addressof(ctypes.c_char.from_buffer(m))\n"
                + "def huge():\n"
                + "    area=None; kb=0; hg=False\n"
                + "    for l in open('/proc/self/smaps'):\n"
                + "        a=re.match(r'([0-9a-f]+)-([0-9a-f]+) ',l)\n"
                + "        if a: area=int(a[1],16)<=addr<int(a[2],16)\n"
                + "        elif area and l.startswith('AnonHugePages:'): kb=int(l.split()[1])\n"
                + "        elif area and l.startswith('VmFlags:'): hg='hg' in l.split()\n"
                + "    return 'hg' if hg else 'no-hg', 'huge' if kb>=2048 else 'small'\n"
                + "print('ready',*huge(),flush=True); sys.stdin.readline()\n"
                + "print(*huge(),all(m[i]==i>>12&255 for i in range(0,16<<20,4096)))\n");
        checkpointWhenReady(spec, () -> { });
        org.junit.jupiter.api.Assumptions.assumeTrue(readyLine.equals("ready hg huge"),
                "the original got no huge pages (THP off or none free here): " + readyLine);
        assertEquals("hg huge True\n", restartAndGo(spec));
    }

    /** python3 that maps {@code file} privately (8 KiB, read-only), closes the fd, and prints the first {@code n} bytes after "go". */
    private static LaunchSpec mapping(Path file, int n) {
        return spec(PY, "-c", "import ctypes,os,sys\n"
                + "libc=ctypes.CDLL(None,use_errno=True); libc.mmap.restype=ctypes.c_void_p\n"
                + "libc.mmap.argtypes=[ctypes.c_void_p,ctypes.c_size_t,ctypes.c_int,ctypes.c_int,ctypes.c_int,ctypes.c_long]\n"
                + "fd=os.open('" + file + "',os.O_RDONLY); a=libc.mmap(None,8192,1,2,fd,0); os.close(fd)\n"
                + WAIT
                + "print(ctypes.string_at(a," + n + ").decode())\n");
    }

    @Test
    void aMappedFileReplacedBeforeTheCaptureIsCarriedByContent() throws Exception {
        Path file = dir.resolve("mapped.txt");
        String old = "old content ".repeat(500);   // 6000 bytes: two pages, the second partly past the end
        Files.writeString(file, old);
        LaunchSpec spec = mapping(file, old.length());
        LhImage image = checkpointWhenReady(spec, () -> {
            try {   // as package upgrades and editors do: a new file renamed over the old name
                Path fresh = Files.writeString(dir.resolve("mapped.new"), "new content ".repeat(500));
                Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Mapping m = image.getProcesses(0).getMappingsList().stream().filter(x -> x.getPath().equals(file.toString()))
                .findFirst().orElseThrow();
        assertTrue(m.getContentCarried(), "carried by content: " + m);
        assertEquals(2, m.getCarriedPages());
        assertEquals(old + "\n", restartAndGo(spec), "the program still sees the bytes it had mapped");
    }

    @Test
    void aMappedFileChangedAfterTheCaptureIsRefusedBeforeAnythingStarts() throws Exception {
        Path file = dir.resolve("mapped.txt");
        Files.writeString(file, "first version ".repeat(100));
        LaunchSpec spec = mapping(file, 10);
        LhImage image = checkpointWhenReady(spec, () -> { });
        assertTrue(image.getProcesses(0).getMappingsList().stream().anyMatch(x -> x.getPath().equals(file.toString())
                && !x.getContentCarried() && x.hasFile()), "mapped from the file, identity recorded");
        Files.writeString(file, "other version".repeat(100) + "-".repeat(100));   // same inode, same size, other bytes
        LaunchException e = assertThrows(LaunchException.class, () -> lhs.launcher.restore(spec.lhId(), dir.resolve("image")));
        assertEquals("cannot rebuild " + spec.lhId() + ".2: " + file + " has different content in the mapped range", e.getMessage());
        for (Path procs : original.cgroup().procsFiles()) {   // gone with the original; not created again
            assertTrue(!Files.exists(procs.getParent()), "no logical host was created: " + procs.getParent());
        }
    }
}
