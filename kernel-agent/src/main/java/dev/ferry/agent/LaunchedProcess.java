package dev.ferry.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A running logical host: the ferry-init launcher process and what it reports. */
final class LaunchedProcess implements LaunchedLh {
    private static final Duration FIND_PROGRAM_TIMEOUT = Duration.ofSeconds(2);

    private final String lhId;
    private final Process launcher;
    private final LhCgroup cgroup;
    private final Path statusFile;
    private final ProcFs proc;
    private final List<String> warnings;
    private final CompletableFuture<ProgramExit> exit;
    private final int lhPid;           // the program's pid inside the LH: 2, or the restored pid
    private volatile int programPid;   // 0 until found

    LaunchedProcess(String lhId, Process launcher, LhCgroup cgroup, Path statusFile, ProcFs proc, List<String> warnings) {
        this(lhId, 2, launcher, cgroup, statusFile, proc, warnings);
    }

    LaunchedProcess(String lhId, int lhPid, Process launcher, LhCgroup cgroup, Path statusFile, ProcFs proc,
                    List<String> warnings) {
        this.lhId = lhId;
        this.lhPid = lhPid;
        this.launcher = launcher;
        this.cgroup = cgroup;
        this.statusFile = statusFile;
        this.proc = proc;
        this.warnings = new CopyOnWriteArrayList<>(warnings);
        // async: reading the status and removing the cgroup must not hold up the JDK's reaper
        this.exit = launcher.onExit().thenApplyAsync(p -> finish(p.exitValue()));
    }

    private ProgramExit finish(int launcherExitValue) {
        String status = "";
        try {
            status = Files.readString(statusFile, StandardCharsets.US_ASCII);
            Files.deleteIfExists(statusFile);
        } catch (NoSuchFileException e) {
            // the launcher failed before it could create it; its exit value tells
        } catch (IOException e) {
            warnings.add("could not read the status file " + statusFile + ": " + e.getMessage());
        }
        try {
            cgroup.remove();
        } catch (UncheckedIOException e) {
            warnings.add("could not remove the LH's cgroup: " + e.getCause().getMessage());
        }
        return StatusFile.parse(status, launcherExitValue);
    }

    @Override
    public String lhId() {
        return lhId;
    }

    @Override
    public OutputStream stdin() {
        return launcher.getOutputStream();
    }

    @Override
    public InputStream stdout() {
        return launcher.getInputStream();
    }

    @Override
    public InputStream stderr() {
        return launcher.getErrorStream();
    }

    @Override
    public LhCgroup cgroup() {
        return cgroup;
    }

    @Override
    public int programHostPid() {
        if (exit.isDone()) {
            return -1;   // its pid may already belong to another process
        }
        if (programPid > 0) {
            return programPid;
        }
        long deadline = System.nanoTime() + FIND_PROGRAM_TIMEOUT.toNanos();
        while (launcher.isAlive() && System.nanoTime() - deadline < 0) {
            Optional<Integer> found = findProgram();
            if (found.isPresent()) {
                programPid = found.get();
                return programPid;
            }
            CgroupFiles.sleep(1);
        }
        return -1;
    }

    /**
     * The program (pid 2, or the restored pid) is the child of the init, which is the child of the launcher; it counts as found
     * once it leads its own process group, so that killpg reaches it.
     */
    private Optional<Integer> findProgram() {
        int launcherPid = (int) launcher.pid();
        List<Integer> pids = cgroup.hostPids();
        for (int initPid : pids) {
            Optional<ProcStatus> init = proc.status(initPid);
            if (init.isEmpty() || init.get().ppid() != launcherPid || init.get().innermostPid() != 1) {
                continue;
            }
            for (int pid : pids) {
                Optional<ProcStatus> program = proc.status(pid);
                if (program.isPresent() && program.get().ppid() == initPid && program.get().innermostPid() == lhPid
                        && proc.processGroup(pid).orElse(-1) == pid) {
                    return Optional.of(pid);
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public CompletableFuture<ProgramExit> exit() {
        return exit;
    }

    @Override
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    @Override
    public void signalGroup(int sig) {
        int pid = programHostPid();
        if (pid > 0) {
            Signals.killpg(pid, sig);
        }
    }

    @Override
    public String toString() {
        return "LH " + lhId + " (launcher " + launcher.pid() + ", cgroup " + cgroup + ")";
    }
}
