package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry-init's own failure reports, run directly (no cgroup), as the launcher sees them. */
class FerryInitTest {
    @TempDir
    Path dir;

    private record Run(int exitValue, String stderr, ProgramExit exit) {}

    private Run run(String... args) throws Exception {
        Path status = dir.resolve("status");
        List<String> cmd = new ArrayList<>(List.of(TestLhs.INIT.toString(), "--status", status.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        String text = Files.exists(status) ? Files.readString(status) : "";
        return new Run(p.exitValue(), stderr, StatusFile.parse(text, p.exitValue()));
    }

    @Test
    void unwritableCgroupIsALaunchFailure() throws Exception {
        Run r = run("--cgroup-procs", dir.resolve("missing/cgroup.procs").toString(), "--uid", "0", "--gid", "0", "--", "true", "true");
        assertEquals(1, r.exitValue());
        assertTrue(r.stderr().startsWith("ferry-init: " + dir.resolve("missing/cgroup.procs")), r.stderr());
        assertTrue(r.exit().launchFailed());
        assertEquals(255, r.exit().shellCode());
    }

    @Test
    void limitTheKernelRefusesIsALaunchFailure() throws Exception {
        long tooMany = Long.parseLong(ProcText.read(Path.of("/proc/sys/fs/nr_open")).strip()) + 1;
        Run r = run("--uid", "0", "--gid", "0", "--rlimit", "7:" + tooMany + ":" + tooMany, "--", "true", "true");
        assertEquals(0, r.exitValue(), "the launcher itself worked");
        assertEquals("setrlimit: Operation not permitted", r.exit().message());
        assertTrue(r.exit().launchFailed());
    }

    @Test
    void badArgumentsAreRefused() throws Exception {
        assertEquals(1, run("--uid", "0", "--gid", "0", "--").exitValue(), "no program");
        assertEquals(1, run("--uid", "x", "--gid", "0", "--", "true", "true").exitValue());
        assertEquals(1, run("--bogus", "1", "--uid", "0", "--gid", "0", "--", "true", "true").exitValue());
    }

    @Test
    void argvZeroIsSeparateFromTheFileRun() throws Exception {
        Path out = dir.resolve("out");
        Run r = run("--uid", "0", "--gid", "0", "--", "/bin/sh", "custom-name", "-c", "echo $0 > " + out);
        assertEquals(0, r.exit().shellCode(), r.exit().describe());
        assertEquals("custom-name\n", Files.readString(out));
    }
}
