package dev.ferry.agent;

import static dev.ferry.agent.TestLhs.exit;
import static dev.ferry.agent.TestLhs.spec;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Freeze, thaw, CPU time and kill on real LHs, with cgroup2 and with the v1 freezer. */
class LhCgroupTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path stateDir;
    TestLhs lhs;

    @AfterEach
    void tearDown() throws Exception {
        if (lhs != null) {
            lhs.close();
        }
    }

    private void useCgroupV2(boolean v2) throws Exception {
        lhs = new TestLhs(stateDir, v2);
        assertEquals(v2, lhs.tree.describe().startsWith("cgroup2 "), lhs.tree.describe());
    }

    /** A program that prints an ever larger number a hundred times a second. */
    private LaunchedLh counter(AtomicLong last) throws Exception {
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done"));
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(lh.stdout(), StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    last.set(Long.parseLong(line));
                }
            } catch (Exception ended) {
                // the LH was killed
            }
        }, "counter-reader");
        reader.setDaemon(true);
        reader.start();
        await().atMost(WAIT).until(() -> last.get() > 3);
        return lh;
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void freezeReallyStopsTheProgramAndThawResumesIt(boolean v2) throws Exception {
        useCgroupV2(v2);
        AtomicLong last = new AtomicLong();
        LaunchedLh lh = counter(last);
        LhCgroup cgroup = lh.cgroup();
        assertFalse(cgroup.frozen());

        cgroup.freeze();
        assertTrue(cgroup.frozen());
        Thread.sleep(50);   // lines written just before the freeze may still be in the pipe
        long frozenAt = last.get();
        long cpuFrozen = cgroup.cpuMicros();
        Thread.sleep(300);
        assertEquals(frozenAt, last.get(), "the counter advanced while frozen");
        assertEquals(cpuFrozen, cgroup.cpuMicros(), "CPU time grew while frozen");
        assertTrue(cpuFrozen > 0, "the LH used some CPU: " + cpuFrozen);

        cgroup.thaw();
        assertFalse(cgroup.frozen());
        await().atMost(WAIT).until(() -> last.get() > frozenAt + 3);

        cgroup.killAll();
        assertEquals(137, exit(lh).shellCode());
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void killAllKillsEveryProcessEvenWhenFrozen(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c", "sleep 100 & sleep 100 & sleep 100; wait"));
        LhCgroup cgroup = lh.cgroup();
        // init, sh and three sleeps, and with v1 the launcher (a cgroup2 init is born inside with
        // CLONE_INTO_CGROUP while the launcher stays out)
        await().atMost(WAIT).until(() -> cgroup.hostPids().size() == (v2 ? 5 : 6));
        List<Integer> pids = cgroup.hostPids();
        assertTrue(pids.contains((int) lh.programHostPid()));
        cgroup.freeze();

        cgroup.killAll();
        ProgramExit exit = exit(lh);
        assertEquals(137, exit.shellCode(), exit.describe());
        assertEquals(List.of(), cgroup.hostPids());
        // a task leaves its cgroup early in its exit, so /proc may show it a moment longer
        for (int pid : pids) {
            await("pid " + pid + " dies").atMost(WAIT).until(() -> ProcFs.host().status(pid)
                    .map(s -> s.state() == 'Z' || s.state() == 'X').orElse(true));
        }
        assertFalse(Files.exists(cgroup.procsFiles().get(0).getParent()), "the exit removes the cgroup");
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void everyHierarchyHoldsTheWholeLh(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh lh = lhs.launch(spec("/bin/sh", "-c", "read x"));
        int program = lh.programHostPid();
        for (Path procs : lh.cgroup().procsFiles()) {
            assertTrue(CgroupFiles.pids(procs).contains(program), procs + " lacks the program");
            assertEquals(v2 ? 2 : 3, CgroupFiles.pids(procs).size(), procs.toString());
        }
        lh.stdin().close();
        assertEquals(1, exit(lh).shellCode());
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void aCgroupStillHoldingProcessesIsNotReused(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchSpec spec = spec("sleep", "100");
        LaunchedLh lh = lhs.launch(spec);
        await().atMost(WAIT).until(() -> lh.cgroup().hostPids().size() == (v2 ? 2 : 3));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> lhs.tree.create(spec.lhId()));
        // an empty leftover is fine
        LhCgroup leftover = lhs.tree.create("leftover");
        lhs.tree.create("leftover").remove();
        leftover.remove();
    }

    @ParameterizedTest(name = "cgroup2={0}")
    @ValueSource(booleans = {true, false})
    void aStartingManagerRemovesEmptyLeftoversAndKeepsBusyOnes(boolean v2) throws Exception {
        useCgroupV2(v2);
        LaunchedLh busy = lhs.launch(spec("sleep", "100"));
        await().atMost(WAIT).until(() -> busy.cgroup().hostPids().size() == (v2 ? 2 : 3));
        LhCgroup leftover = lhs.tree.create("crashed");
        try {
            List<String> removed = lhs.tree.removeEmptyLeftovers();
            assertEquals(leftover.procsFiles().size(), removed.size(), removed.toString());
            assertTrue(removed.stream().allMatch(p -> p.endsWith("/lh-crashed")), removed.toString());
            for (Path procs : leftover.procsFiles()) {
                assertFalse(Files.exists(procs.getParent()), procs.getParent() + " is still there");
            }
            for (Path procs : busy.cgroup().procsFiles()) {
                assertTrue(Files.exists(procs), procs + " was removed while it held the LH");
            }
        } finally {
            leftover.remove();
        }
    }
}
