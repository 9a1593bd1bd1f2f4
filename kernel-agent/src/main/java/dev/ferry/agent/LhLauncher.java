package dev.ferry.agent;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.ImageFormatException;
import dev.ferry.agent.checkpoint.ImageReader;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.rebuild.HostCompatibility;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import dev.ferry.agent.rebuild.ProcessRebuild;
import dev.ferry.agent.rebuild.RebuildException;
import dev.ferry.proto.v1.LhImage;

/**
 * Starts programs as logical hosts: creates the LH's cgroup and runs ferry-init (launcher, then
 * init as pid 1 of a new pid and mount namespace, then the program as pid 2) with the
 * program's environment as its own and its stdio on pipes this JVM holds.
 */
public final class LhLauncher {
    private final Path initBinary;
    private final CgroupTree cgroups;
    private final Path stateDir;
    private final ProcFs proc = ProcFs.host();

    /** {@code stateDir} receives one short-lived status file per running LH. */
    public LhLauncher(Path initBinary, CgroupTree cgroups, Path stateDir) {
        this.initBinary = initBinary;
        this.cgroups = cgroups;
        this.stateDir = stateDir;
    }

    /** System property ferry.init, else $FERRY_HOME/kernel-agent/target/native/ferry-init. */
    public static Path defaultInitBinary() {
        String explicit = System.getProperty("ferry.init");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String home = System.getenv("FERRY_HOME");
        if (home == null || home.isBlank()) {
            throw new IllegalStateException("set the system property ferry.init or FERRY_HOME to find ferry-init");
        }
        return Path.of(home, "kernel-agent", "target", "native", "ferry-init");
    }

    public LaunchedLh launch(LaunchSpec spec) throws LaunchException {
        if (!Files.isExecutable(initBinary)) {
            throw new LaunchException("ferry-init not found or not executable: " + initBinary);
        }
        List<String> warnings = new ArrayList<>();
        List<RlimitSpec> rlimits;
        try {
            rlimits = RlimitClamp.clamp(spec.rlimits(), warnings);
        } catch (UncheckedIOException e) {
            throw new LaunchException("reading this host's limits: " + e.getCause().getMessage(), e);
        }
        Map<String, String> env = environment(spec.env(), warnings);
        LhCgroup cgroup;
        try {
            cgroup = cgroups.create(spec.lhId());
        } catch (IOException e) {
            throw new LaunchException("creating the cgroup of LH " + spec.lhId() + ": " + e.getMessage(), e);
        }
        Path statusFile = stateDir.resolve("lh-" + spec.lhId() + ".status");
        try {
            Files.createDirectories(stateDir);
            ProcessBuilder pb = new ProcessBuilder(InitCommand.of(initBinary, cgroup.procsFiles(), statusFile, spec, rlimits));
            pb.environment().clear();
            pb.environment().putAll(env);
            pb.redirectErrorStream(false);
            pb.directory(new File("/"));   // the launcher must not pin the PM's directory
            Process launcher = pb.start();
            return new LaunchedProcess(spec.lhId(), launcher, cgroup, statusFile, proc, warnings);
        } catch (IOException | RuntimeException e) {
            cgroup.remove();
            throw new LaunchException("starting " + initBinary + " for LH " + spec.lhId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Brings a captured logical host back to life under LH id {@code lhId} (the image's own id
     * for a restart or migration, a new one for a fork): checks the image and this host (CPU
     * state layout, kernel family, files) before creating anything, starts ferry-init in
     * restore mode (a stub at each process' old pid, under its old parent, in a fresh pid
     * namespace, stdio on new pipes this JVM holds), writes the stdin bytes the program had not
     * read yet into the new stdin pipe, rebuilds every process in its stub and lets them run.
     * On failure nothing of the LH is left.
     */
    public LaunchedLh restore(String lhId, CapturedLh image) throws LaunchException {
        return restore(lhId, image, PhaseTimer.none());
    }

    /** {@link #restore(String, CapturedLh)} from an image directory; its pages are mapped, not loaded. */
    public LaunchedLh restore(String lhId, Path imageDir) throws LaunchException {
        return restore(lhId, imageDir, PhaseTimer.none());
    }

    /**
     * {@link #restore(String, CapturedLh, boolean)} from an image directory: with
     * {@code startFrozen} the program has not run when this returns; the caller commits with
     * {@code launched.cgroup().thaw()} or aborts with {@code launched.cgroup().killAll()}.
     */
    public LaunchedLh restore(String lhId, Path imageDir, boolean startFrozen) throws LaunchException {
        return restore(lhId, read(imageDir, PhaseTimer.none()), PhaseTimer.none(), startFrozen);
    }

    public LaunchedLh restore(String lhId, Path imageDir, PhaseTimer timer) throws LaunchException {
        return restore(lhId, read(imageDir, timer), timer);
    }

    private static CapturedLh read(Path imageDir, PhaseTimer timer) throws LaunchException {
        CapturedLh image;
        try {
            image = ImageReader.read(imageDir);
        } catch (ImageFormatException e) {
            throw new LaunchException(e.getMessage(), e);
        } catch (IOException e) {
            throw new LaunchException("reading the image " + imageDir + ": " + e.getMessage(), e);
        }
        timer.mark("read and check image");
        return image;
    }

    /** As {@link #restore(String, CapturedLh)}, recording where the time goes in {@code timer}. */
    public LaunchedLh restore(String lhId, CapturedLh image, PhaseTimer timer) throws LaunchException {
        return restore(lhId, image, timer, false);
    }

    /** {@link #restore(String, CapturedLh, PhaseTimer, boolean)} without timing. */
    public LaunchedLh restore(String lhId, CapturedLh image, boolean startFrozen) throws LaunchException {
        return restore(lhId, image, PhaseTimer.none(), startFrozen);
    }

    /**
     * As {@link #restore(String, CapturedLh, PhaseTimer)}; with {@code startFrozen} the rebuilt
     * program has not executed one instruction of its own when this returns: its unread stdin
     * and private pipes are refilled, then its LH cgroup is frozen before the tracer lets go.
     * The caller then either thaws it with {@code cgroup().thaw()} (commit: it runs on) or kills
     * it with {@code cgroup().killAll()} (abort: nothing of the LH is left); {@code exit()}
     * reports either as usual.
     */
    public LaunchedLh restore(String lhId, CapturedLh image, PhaseTimer timer, boolean startFrozen) throws LaunchException {
        try {
            ProcessRebuild.verify(image, HostCompatibility.local(initBinary));
        } catch (RebuildException e) {
            throw new LaunchException(e.getMessage(), e);
        } catch (IOException e) {
            throw new LaunchException("learning this host's CPU features: " + e.getMessage(), e);
        }
        timer.mark("verify");
        List<dev.ferry.proto.v1.ProcessImage> processes = image.image().getProcessesList();
        RestoreStub stub = processes.size() == 1 ? startStub(lhId, processes.get(0).getPid()) : startStubs(lhId, processes);
        timer.mark("launch stub");
        return stub.complete(image.image(), startFrozen, frozen -> new ProcessRebuild(timer).rebuild(stub.hostPids(), image, frozen));
    }

    /**
     * The first half of a restore, for pre-copy: the LH's cgroup and a restore stub (ferry-init
     * --restore) at the program's pid in a fresh pid namespace, stopped and waiting to be
     * filled. {@link RestoreStub#close} removes it all if the restore does not complete.
     */
    public RestoreStub startStub(String lhId, int lhPid) throws LaunchException {
        return startStubs(lhId, lhPid, null);
    }

    /**
     * The first half of a restore of several processes: the LH's cgroup and a restore stub for
     * every process of {@code processes} (the image's, parents first, [0] the program), each at
     * its old pid under its old parent, in its old session and, when it leads one, its own
     * process group (joining another's is left to the rebuild), zombies ended as they had. The
     * stubs' host pids are in {@link RestoreStub#hostPids()}.
     */
    public RestoreStub startStubs(String lhId, List<dev.ferry.proto.v1.ProcessImage> processes) throws LaunchException {
        return startStubs(lhId, processes.get(0).getPid(), processes);
    }

    private RestoreStub startStubs(String lhId, int lhPid, List<dev.ferry.proto.v1.ProcessImage> tree) throws LaunchException {
        if (!Files.isExecutable(initBinary)) {
            throw new LaunchException("ferry-init not found or not executable: " + initBinary);
        }
        LhCgroup cgroup;
        try {
            cgroup = cgroups.create(lhId);
        } catch (IOException e) {
            throw new LaunchException("creating the cgroup of LH " + lhId + ": " + e.getMessage(), e);
        }
        Path statusFile = stateDir.resolve("lh-" + lhId + ".status");
        LaunchedProcess lh;
        try {
            Files.createDirectories(stateDir);
            ProcessBuilder pb = new ProcessBuilder(tree == null ? InitCommand.restore(initBinary, cgroup.procsFiles(), statusFile, lhPid)
                    : InitCommand.restoreTree(initBinary, cgroup.procsFiles(), statusFile, tree));
            pb.environment().clear();
            pb.directory(new File("/"));
            lh = new LaunchedProcess(lhId, lhPid, pb.start(), cgroup, statusFile, proc, List.of());
        } catch (IOException | RuntimeException e) {
            cgroup.remove();
            throw new LaunchException("starting " + initBinary + " to restore LH " + lhId + ": " + e.getMessage(), e);
        }
        int stub = lh.programHostPid();
        if (stub < 0) {
            cgroup.killAll();
            throw new LaunchException("the restore stub of LH " + lhId + " did not start: " + describeExit(lh));
        }
        Map<Integer, Integer> hostPids = Map.of(lhPid, stub);
        if (tree != null) {
            try {
                hostPids = StubTree.await(cgroup, proc, tree);
            } catch (IOException e) {
                cgroup.killAll();
                throw new LaunchException("restoring LH " + lhId + ": " + e.getMessage() + ": " + describeExit(lh), e);
            }
        }
        return new RestoreStub(lhId, lh, stub, hostPids);
    }

    /** Checks an image against this host before anything is built for it. */
    public void verify(CapturedLh image) throws LaunchException {
        try {
            ProcessRebuild.verify(image, HostCompatibility.local(initBinary));
        } catch (RebuildException e) {
            throw new LaunchException(e.getMessage(), e);
        } catch (IOException e) {
            throw new LaunchException("learning this host's CPU features: " + e.getMessage(), e);
        }
    }

    /** This host's CPU state layout and kernel, as a restore checks them. */
    public dev.ferry.proto.v1.HostFeatures hostFeatures() throws IOException {
        return HostCompatibility.local(initBinary);
    }

    /** A restore stub waiting to be filled: see {@link #startStub}. */
    public static final class RestoreStub implements AutoCloseable {
        private final String lhId;
        private final LaunchedProcess launched;
        private final int hostPid;
        private final Map<Integer, Integer> hostPids;
        private boolean completed;

        RestoreStub(String lhId, LaunchedProcess launched, int hostPid, Map<Integer, Integer> hostPids) {
            this.lhId = lhId;
            this.launched = launched;
            this.hostPid = hostPid;
            this.hostPids = Map.copyOf(hostPids);
        }

        /** The stub's host pid: it becomes the program. */
        public int hostPid() {
            return hostPid;
        }

        /** Every stub's host pid (zombies' included) by its pid inside the LH. */
        public Map<Integer, Integer> hostPids() {
            return hostPids;
        }

        public LhCgroup cgroup() {
            return launched.cgroup();
        }

        /** Fills the stub and hands it back as the LH ({@code startFrozen}: see {@link #restore(String, CapturedLh, PhaseTimer, boolean)}). */
        public interface Filler {
            void fill(LhCgroup freezeIn) throws Exception;
        }

        /**
         * Writes the program's unread stdin into its new pipe, runs {@code filler} (which
         * rebuilds the process, frozen in the LH's cgroup when {@code startFrozen}), and returns
         * the LH. On failure everything of the LH is killed.
         */
        public LaunchedLh complete(LhImage image, boolean startFrozen, Filler filler) throws LaunchException {
            try {
                CompletableFuture<Void> stdin = PendingStdin.write(launched, hostPid, image.getPendingStdin().toByteArray(), startFrozen);
                filler.fill(startFrozen ? launched.cgroup() : null);
                stdin.get(10, TimeUnit.SECONDS);   // done already when frozen
                completed = true;
                return launched;
            } catch (Exception e) {
                launched.cgroup().killAll();
                String why = e instanceof ExecutionException ? e.getCause().getMessage()
                        : e instanceof TimeoutException ? "the program did not read its unread stdin back within 10 s" : e.getMessage();
                throw new LaunchException(e instanceof RebuildException ? why : "restoring LH " + lhId + ": " + why, e);
            }
        }

        /** Kills and removes what an uncompleted restore left. */
        @Override
        public void close() {
            if (!completed) {
                launched.cgroup().killAll();
            }
        }
    }

    private static String describeExit(LaunchedLh lh) {
        try {
            return lh.exit().get(2, java.util.concurrent.TimeUnit.SECONDS).describe();
        } catch (Exception e) {
            return "no status";
        }
    }

    /** "K=V" entries as a map; entries the kernel could not pass on are dropped with a warning. */
    static Map<String, String> environment(List<String> entries, List<String> warnings) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || entry.indexOf('\0') >= 0) {
                warnings.add("environment entry dropped (not NAME=VALUE): " + entry.replace('\0', '?'));
                continue;
            }
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return env;
    }
}
