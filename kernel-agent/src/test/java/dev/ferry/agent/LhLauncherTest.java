package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.exit;
import static dev.ferry.agent.TestLhs.readAll;
import static dev.ferry.agent.TestLhs.spec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LhLauncherTest {
    @TempDir
    Path stateDir;
    TestLhs lhs;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(stateDir, true);
    }

    @AfterEach
    void tearDown() throws Exception {
        lhs.close();
    }

    /**
     * ferry-init --restore-tree: every stub at its pid under its parent, sessions and group
     * leaders as described, zombies ended with their wait status and left to their parents.
     */
    @Test
    void aTreeOfRestoreStubs() throws Exception {
        List<dev.ferry.proto.v1.ProcessImage> tree = List.of(process(2, 1, 2, 0), process(3, 2, 2, 0), process(4, 2, 4, 0),
                process(6, 1, 6, 6), process(9, 6, 6, 6),
                process(5, 3, 2, 0).toBuilder().setZombie(true).setExitStatus(3 << 8).build(),
                process(7, 2, 2, 0).toBuilder().setZombie(true).setExitStatus(9).build());
        try (LhLauncher.RestoreStub stubs = lhs.launcher.startStubs("tree" + System.nanoTime() % 10000, tree)) {
            java.util.Map<Integer, Integer> host = stubs.hostPids();
            assertEquals(java.util.Set.of(2, 3, 4, 5, 6, 7, 9), host.keySet());
            for (dev.ferry.proto.v1.ProcessImage p : tree) {
                String status = Files.readString(Path.of("/proc", host.get(p.getPid()).toString(), "status"));
                assertEquals(p.getPid(), innermost(status, "NSpid"), status);
                assertEquals(p.getPgid(), innermost(status, "NSpgid"), "group of " + p.getPid() + ": " + status);
                assertEquals(p.getSid(), innermost(status, "NSsid"), "session of " + p.getPid() + ": " + status);
                int ppid = p.getPpid() == 1 ? -1 : host.get(p.getPpid());
                if (ppid > 0) {
                    assertTrue(status.contains("\nPPid:\t" + ppid + "\n"), "parent of " + p.getPid() + ": " + status);
                }
                String stat = Files.readString(Path.of("/proc", host.get(p.getPid()).toString(), "stat")).strip();
                assertEquals(p.getZombie() ? p.getExitStatus() : 0, Integer.parseInt(stat.substring(stat.lastIndexOf(' ') + 1)));
            }
        }
    }

    /** The last (innermost namespace's) value of a status line such as "NSpgid:\t812\t4". */
    private static int innermost(String status, String field) {
        String line = status.lines().filter(l -> l.startsWith(field + ":")).findFirst().orElseThrow();
        String[] v = line.substring(field.length() + 1).strip().split("\\s+");
        return Integer.parseInt(v[v.length - 1]);
    }

    private static dev.ferry.proto.v1.ProcessImage process(int pid, int ppid, int pgid, int sid) {
        return dev.ferry.proto.v1.ProcessImage.newBuilder().setPid(pid).setPpid(ppid).setPgid(pgid).setSid(sid).build();
    }

    @Test
    void stdoutStderrAndExitStatus() throws Exception {
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c", "echo hi; echo err >&2; exit 3"));
        CompletableFuture<String> err = readAll(lh.stderr());
        assertEquals("hi\n", readAll(lh.stdout()).get(5, TimeUnit.SECONDS));
        assertEquals("err\n", err.get(5, TimeUnit.SECONDS));
        ProgramExit exit = exit(lh);
        assertEquals(3, exit.shellCode());
        assertEquals("exited with status 3", exit.describe());
        assertFalse(Files.exists(lh.cgroup().procsFiles().get(0).getParent()), "the exit removes the LH's cgroup");
        assertEquals(List.of(), Files.list(stateDir).toList(), "the status file is gone");
    }

    @Test
    void stdinRoundTripOfOneMegabyte() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(42).nextBytes(data);
        LaunchedLh lh = lhs.launch(spec("cat"));
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return lh.stdout().readAllBytes();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (OutputStream in = lh.stdin()) {
            in.write(data);
        }
        assertArrayEquals(data, out.get(10, TimeUnit.SECONDS));
        assertEquals(0, exit(lh).shellCode());
    }

    @Test
    void programNotFoundIs127() throws Exception {
        ProgramExit exit = exit(lhs.launch(spec("no-such-program-ferry-test")));
        assertEquals(2, exit.execErrno());
        assertEquals(127, exit.shellCode());
        assertTrue(exit.describe().contains("ENOENT"), exit.describe());
    }

    @Test
    void fileNotExecutableIs126() throws Exception {
        Path script = Files.writeString(stateDir.resolve("not-executable"), "echo no\n");
        ProgramExit exit = exit(lhs.launch(spec(script.toString())));
        assertEquals(13, exit.execErrno());
        assertEquals(126, exit.shellCode());
    }

    @Test
    void missingWorkingDirectoryIsAnExecFailure() throws Exception {
        LaunchSpec base = spec("true");
        LaunchSpec spec = new LaunchSpec(base.lhId(), base.argv(), base.env(), "/nonexistent-ferry-dir", 022, 0, 0,
                null, null, 0);
        assertEquals(127, exit(lhs.launch(spec)).shellCode());
    }

    @Test
    void signalGroupDeliversSigterm() throws Exception {
        LaunchedLh lh = lhs.launch(spec("sleep", "30"));
        int pid = lh.programHostPid();
        assertTrue(pid > 0, "program pid " + pid);
        assertEquals(pid, ProcFs.host().processGroup(pid).orElseThrow(), "the program leads its own group");
        lh.signalGroup(Signals.SIGTERM);
        ProgramExit exit = exit(lh);
        assertEquals(143, exit.shellCode());
        assertEquals("killed by signal 15 (SIGTERM)", exit.describe());
        assertEquals(-1, lh.programHostPid());
        lh.signalGroup(Signals.SIGTERM);   // gone: a no-op
    }

    @Test
    void programIsPidTwoWithItsOwnProc() throws Exception {
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c",
                "echo $$; grep NSpid /proc/$$/status; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'; read x || true"));
        int hostPid = lh.programHostPid();
        ProcStatus onHost = ProcFs.host().status(hostPid).orElseThrow();
        assertEquals(2, onHost.innermostPid());
        assertEquals(hostPid, onHost.outermostPid());
        assertEquals(2, onHost.nsPids().length);
        lh.stdin().close();
        String[] lines = readAll(lh.stdout()).get(5, TimeUnit.SECONDS).split("\n");
        assertEquals("2", lines[0]);
        assertEquals("NSpid:\t2", lines[1]);
        assertEquals("ferry-init", lines[2]);
        assertTrue(Integer.parseInt(lines[3]) <= 5, "only the LH's processes are in its /proc: " + lines[3]);
        assertEquals(0, exit(lh).shellCode());
    }

    @Test
    void umaskCwdEnvNiceAndRlimitAreApplied(@TempDir Path cwd) throws Exception {
        LaunchSpec base = spec("/bin/sh", "-c",
                "umask; pwd; echo \"$FOO\"; nice; grep 'Max open files' /proc/self/limits; echo ${HOME-unset}");
        LaunchSpec spec = new LaunchSpec(base.lhId(), base.argv(), List.of(TestLhs.PATH, "FOO=bar  baz=1"),
                cwd.toString(), 027, 0, 0, new int[0], List.of(new RlimitSpec(RlimitSpec.NOFILE, 123, 456)), 7);
        LaunchedLh lh = lhs.launch(spec);
        String[] lines = readAll(lh.stdout()).get(5, TimeUnit.SECONDS).split("\n");
        assertEquals(0, exit(lh).shellCode(), exit(lh).describe());
        assertEquals("0027", lines[0]);
        assertEquals(cwd.toRealPath().toString(), lines[1]);
        assertEquals("bar  baz=1", lines[2]);
        assertEquals("7", lines[3]);
        assertTrue(lines[4].matches("Max open files\\s+123\\s+456\\s+files\\s*"), lines[4]);
        assertEquals("unset", lines[5], "the environment is exactly the requested one");
        assertEquals(0, exit(lh).shellCode());
        assertEquals(List.of(), lh.warnings());
    }

    @Test
    void hardLimitAboveTheKernelMaximumIsLowered() throws Exception {
        long nrOpen = Long.parseLong(ProcText.read(Path.of("/proc/sys/fs/nr_open")).strip());
        LaunchSpec base = spec("/bin/sh", "-c", "ulimit -n");
        LaunchSpec spec = new LaunchSpec(base.lhId(), base.argv(), base.env(), "/", 022, 0, 0, null,
                List.of(new RlimitSpec(RlimitSpec.NOFILE, 64, nrOpen + 1)), 0);
        LaunchedLh lh = lhs.launch(spec);
        assertEquals("64\n", readAll(lh.stdout()).get(5, TimeUnit.SECONDS));
        assertEquals(0, exit(lh).shellCode());
        assertEquals(1, lh.warnings().size(), lh.warnings().toString());
        assertTrue(lh.warnings().get(0).startsWith("Max open files: hard limit " + (nrOpen + 1) + " lowered to "),
                lh.warnings().get(0));
    }

    @Test
    void dropsToTheRequestedUser() throws Exception {
        Credentials nobody = Users.byName("nobody");
        LaunchSpec base = spec("/bin/sh", "-c", "id -u; id -g; id -G; touch /root/ferry-test-must-fail 2>/dev/null || echo denied");
        LaunchSpec spec = new LaunchSpec(base.lhId(), base.argv(), base.env(), "/", 022, nobody.uid(), nobody.gid(),
                nobody.groups(), null, 0);
        LaunchedLh lh = lhs.launch(spec);
        String expectedGroups = String.join(" ", java.util.Arrays.stream(nobody.groups()).mapToObj(Integer::toString).toList());
        assertEquals("65534\n" + nobody.gid() + "\n" + expectedGroups + "\ndenied\n",
                readAll(lh.stdout()).get(5, TimeUnit.SECONDS));
        assertEquals(0, exit(lh).shellCode());
    }

    @Test
    void orphansAreReapedAndLeftoversDieWithTheProgram() throws Exception {
        // (sleep &) leaves an orphan for the init to reap; the last sleep outlives the program
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c",
                "(sleep 0.05 &); sleep 0.4; cut -d' ' -f3 /proc/[0-9]*/stat | grep -c Z; sleep 100 & exit 5"));
        long start = System.nanoTime();
        assertEquals("0\n", readAll(lh.stdout()).get(5, TimeUnit.SECONDS), "no zombie left in the LH");
        assertEquals(5, exit(lh).shellCode());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "the background sleep was killed with the LH");
    }

    @Test
    void launchWithoutAnInitBinaryFails() throws Exception {
        LhLauncher broken = new LhLauncher(stateDir.resolve("no-ferry-init"), lhs.tree, stateDir);
        org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class, () -> broken.launch(spec("true")));
    }

    @Test
    void environmentEntriesWithoutANameAreDropped() {
        List<String> warnings = new java.util.ArrayList<>();
        assertEquals(java.util.Map.of("A", "1=2", "B", ""),
                LhLauncher.environment(List.of("A=1=2", "B=", "=x", "junk"), warnings));
        assertEquals(2, warnings.size());
    }
}
