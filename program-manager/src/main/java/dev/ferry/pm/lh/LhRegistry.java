package dev.ferry.pm.lh;

import dev.ferry.agent.LaunchException;
import dev.ferry.agent.LaunchSpec;
import dev.ferry.agent.LaunchedLh;
import dev.ferry.agent.LhLauncher;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.ProcStatus;
import java.nio.file.Path;
import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ProcessInfo;
import dev.ferry.proto.v1.ProgramSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/** The logical hosts this program manager hosts, from launch until shortly after they exit. */
public final class LhRegistry {
    private static final Logger LOG = Logger.getLogger(LhRegistry.class.getName());
    /** How long an exited LH stays listed (state "exited") and its output kept for a late client. */
    static final long EXITED_RETENTION_MS = 60_000;

    private final String hostName;
    private final LhLauncher launcher;
    private final ProcFs proc;
    private final LongSupplier clock;
    private final Map<String, HostedLh> lhs = new ConcurrentHashMap<>();
    private final ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lh-reaper");
        t.setDaemon(true);
        return t;
    });

    public LhRegistry(String hostName, LhLauncher launcher, ProcFs proc, LongSupplier clock) {
        this.hostName = hostName;
        this.launcher = launcher;
        this.proc = proc;
        this.clock = clock;
    }

    public LhLauncher launcher() {
        return launcher;
    }

    /**
     * Takes over an LH rebuilt here by pre-copy (frozen; it runs once the source commits), its
     * streams continuing at the given offsets.
     */
    public HostedLh adopt(String id, ProgramSpec spec, LhOwner owner, LaunchedLh launched, HostedLh.StreamOffsets offsets)
            throws FerryException {
        return start(id, spec, owner, l -> launched, "adopt", offsets);
    }

    /** How an LH's processes come to be: a fresh launch or a restore from an image. */
    @FunctionalInterface
    public interface Starter {
        LaunchedLh start(LhLauncher launcher) throws LaunchException;
    }

    public HostedLh launch(String id, ProgramSpec spec, LhOwner owner, LaunchSpec launchSpec) throws FerryException {
        return start(id, spec, owner, l -> l.launch(launchSpec), "start");
    }

    /** Brings an LH back from a checkpoint image directory (pages are mapped, not read into the heap). */
    public HostedLh restore(String id, ProgramSpec spec, LhOwner owner, Path imageDir) throws FerryException {
        return start(id, spec, owner, l -> l.restore(id, imageDir), "restart", HostedLh.StreamOffsets.START);
    }

    /**
     * Rebuilds an LH that is moving here, frozen (it runs only once the source commits), its
     * streams continuing at the given offsets.
     */
    public HostedLh receive(String id, ProgramSpec spec, LhOwner owner, Path imageDir, HostedLh.StreamOffsets offsets)
            throws FerryException {
        return start(id, spec, owner, l -> l.restore(id, imageDir, true), "rebuild", offsets);
    }

    private HostedLh start(String id, ProgramSpec spec, LhOwner owner, Starter starter, String verb) throws FerryException {
        return start(id, spec, owner, starter, verb, HostedLh.StreamOffsets.START);
    }

    private HostedLh start(String id, ProgramSpec spec, LhOwner owner, Starter starter, String verb,
                           HostedLh.StreamOffsets offsets) throws FerryException {
        HostedLh old = lhs.get(id);
        if (old != null && !old.exit().isDone()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s exists already", id);
        }
        LaunchedLh launched;
        try {
            launched = starter.start(launcher);
        } catch (LaunchException e) {
            throw new FerryException(ErrorCode.INTERNAL, "could not " + verb + " " + spec.getArgv(0) + " on " + hostName + ": " + e.getMessage(), e);
        }
        HostedLh lh = new HostedLh(id, hostName, spec, owner, launched, clock.getAsLong(), offsets);
        lhs.put(id, lh);
        lh.exit().whenComplete((status, t) -> {
            LOG.info(() -> "LH " + id + " exited: code " + (status == null ? "?" : status.getCode()));
            launched.cgroup().remove();
            reaper.schedule(() -> forget(lh), EXITED_RETENTION_MS, TimeUnit.MILLISECONDS);
        });
        return lh;
    }

    /**
     * Forgets this incarnation of an LH (its retention ran out, it moved away, or it was restarted
     * elsewhere); a newer LH under the same id stays.
     */
    public void forget(HostedLh lh) {
        lhs.remove(lh.id(), lh);
    }

    /** Forgets an exited LH at once (it was restarted elsewhere under the same id). */
    public void forgetExited(String id) {
        HostedLh lh = lhs.get(id);
        if (lh != null && lh.exit().isDone()) {
            forget(lh);
        }
    }

    public Optional<HostedLh> get(String id) {
        return Optional.ofNullable(lhs.get(id));
    }

    public Collection<HostedLh> all() {
        return lhs.values();
    }

    public int guestCount() {
        return (int) lhs.values().stream().filter(l -> l.owner().guest() && !l.exit().isDone()).count();
    }

    public LhInfo describe(HostedLh lh) {
        LhInfo.Builder b = LhInfo.newBuilder()
                .setId(lh.id())
                .setHost(hostName)
                .setUser(lh.owner().caller().getUser())
                .setUid(lh.owner().uid())
                .setProgram(lh.program())
                .addAllArgv(lh.spec().getArgvList())
                .setStartedMs(lh.startedMillis())
                .setGuest(lh.owner().guest())
                .setOriginHost(lh.owner().originHost());
        List<ProcessInfo> procs = lh.exit().isDone() ? List.of() : processes(lh);
        b.addAllProcesses(procs);
        b.setState(state(lh, procs));
        return b.build();
    }

    private static String state(HostedLh lh, List<ProcessInfo> procs) {
        if (lh.exit().isDone()) {
            return "exited";
        }
        if (lh.inDoubt()) {
            return "in-doubt";
        }
        if (lh.migrating()) {
            return "migrating";
        }
        if (lh.userStopped()) {
            return "stopped";
        }
        if (lh.launched().cgroup().frozen()) {
            return "frozen";
        }
        boolean programStopped = procs.stream().anyMatch(p -> p.getPid() == 2 && p.getState().equals("stopped"));
        return programStopped ? "stopped" : "running";
    }

    /** The LH's processes as users see them: LHID.PID next to the host pid (init and launcher are Ferry's, hidden). */
    private List<ProcessInfo> processes(HostedLh lh) {
        List<ProcessInfo> out = new ArrayList<>();
        for (int hostPid : lh.launched().cgroup().hostPids()) {
            Optional<ProcStatus> st = proc.status(hostPid);
            if (st.isEmpty() || st.get().nsPids().length < 2 || st.get().innermostPid() < 2) {
                continue;
            }
            int pid = st.get().innermostPid();
            String cmd = proc.cmdline(hostPid);
            out.add(ProcessInfo.newBuilder()
                    .setName(lh.id() + "." + pid)
                    .setPid(pid)
                    .setHostPid(hostPid)
                    .setCommand(cmd.isEmpty() ? st.get().name() : cmd)
                    .setState(stateWord(st.get().state()))
                    .build());
        }
        out.sort((a, c) -> Integer.compare(a.getPid(), c.getPid()));
        return out;
    }

    static String stateWord(char s) {
        return switch (s) {
            case 'R' -> "running";
            case 'S', 'I' -> "sleeping";
            case 'D' -> "disk-wait";
            case 'T', 't' -> "stopped";
            case 'Z' -> "zombie";
            case 'X' -> "dead";
            default -> String.valueOf(s);
        };
    }

    /** Kills every LH (manager shutdown). */
    public void killAll() {
        for (HostedLh lh : lhs.values()) {
            lh.kill();
        }
        reaper.shutdownNow();
    }
}
