package dev.ferry.pm.peer;

import dev.ferry.agent.LaunchSpec;
import dev.ferry.agent.RlimitClamp;
import dev.ferry.agent.RlimitSpec;
import dev.ferry.agent.Signals;
import dev.ferry.pm.LhIds;
import dev.ferry.pm.checkpoint.CheckpointDir;
import dev.ferry.pm.checkpoint.Checkpointer;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.PeerCheckpointRequest;
import dev.ferry.proto.v1.MigrateResult;
import dev.ferry.proto.v1.PeerMigrateRequest;
import dev.ferry.pm.migrate.MigrationSource;
import dev.ferry.pm.migrate.MigrationTarget;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.HostState;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.lh.LhOwner;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.pm.owner.GuestAdmission;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.ControlAction;
import dev.ferry.proto.v1.CreateLhReply;
import dev.ferry.proto.v1.CreateLhRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.ListLhsReply;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.Rlimit;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * What a program manager does for the logical hosts it hosts, on behalf of callers vouched for
 * by their own manager: create, find (with the permission check), list, control, signal.
 */
public final class LhHost {
    private static final Logger LOG = Logger.getLogger(LhHost.class.getName());
    /** Same order of size as the kernel's own ARG_MAX budget for argv + environment. */
    static final int MAX_ARGS_BYTES = 2 << 20;

    private final String hostName;
    private final LhRegistry registry;
    private final HostState state;
    private final Permissions permissions;
    private final int guestNice;
    private final Checkpointer checkpointer;
    private final Consumer<String> announcer;
    private final GuestAdmission admission;
    private volatile MigrationSource migrationSource;
    private volatile MigrationTarget migrationTarget;

    /** @param announcer tells the group that an LH (restarted here) is now at this host */
    public LhHost(String hostName, LhRegistry registry, HostState state, Permissions permissions, int guestNice,
                  Consumer<String> announcer, GuestAdmission admission) {
        this.announcer = announcer;
        this.admission = admission;
        this.hostName = hostName;
        this.registry = registry;
        this.state = state;
        this.permissions = permissions;
        this.guestNice = guestNice;
        this.checkpointer = new Checkpointer(hostName, System::currentTimeMillis);
    }

    public CreateLhReply create(CreateLhRequest req) throws FerryException {
        if (!req.getRestartDir().isEmpty()) {
            return restart(req);
        }
        ProgramSpec spec = req.getSpec();
        validate(req.getLhId(), spec);
        boolean guest = !req.getOriginHost().equals(hostName);
        if (guest) {
            admission.check(req.getCaller().getUser() + "@" + req.getOriginHost(), spec.getArgv(0));
        }
        List<String> warnings = new ArrayList<>();
        List<RlimitSpec> limits = RlimitClamp.clamp(toSpecs(spec.getRlimitsList()), warnings);
        Caller c = req.getCaller();
        LaunchSpec launch = new LaunchSpec(req.getLhId(), spec.getArgvList(), spec.getEnvList(), spec.getCwd(),
                spec.getUmask(), c.getUid(), c.getGid(), c.getGroupsList().stream().mapToInt(Integer::intValue).toArray(),
                limits, guest ? guestNice : 0);
        HostedLh lh = registry.launch(req.getLhId(), spec, new LhOwner(c, req.getOriginHost(), guest), launch);
        warnings.addAll(lh.launched().warnings());
        LOG.info(() -> String.format("LH %s started for %s@%s: %s", lh.id(), c.getUser(), req.getOriginHost(), String.join(" ", spec.getArgvList())));
        if (guest) {
            admission.started();
        }
        return CreateLhReply.newBuilder().setLhId(lh.id()).setHost(hostName)
                .setHostPid(lh.launched().programHostPid()).addAllWarnings(warnings).build();
    }

    /**
     * `run --restart DIR`: brings a checkpointed LH back here. The first restart of an image
     * of an ended LH continues that LH (same id); any other restart is a fork with a new id,
     * so two copies of one LH never run.
     */
    private CreateLhReply restart(CreateLhRequest req) throws FerryException {
        Caller c = req.getCaller();
        CheckpointDir dir = CheckpointDir.forReading(req.getRestartDir(), c);
        CheckpointMeta meta = dir.readMeta();
        boolean guest = !req.getOriginHost().equals(hostName);
        if (guest) {
            // Before the first-restart claim: a refused restart must not use it up.
            admission.check(c.getUser() + "@" + req.getOriginHost(), meta.getSpec().getArgvCount() > 0 ? meta.getSpec().getArgv(0) : "?");
        }
        boolean sameLh = !meta.getLeftRunning() && dir.claimFirstRestart();
        String id = sameLh ? meta.getLhId() : LhIds.next();
        HostedLh lh = registry.restore(id, meta.getSpec(), new LhOwner(meta.getOwner(), req.getOriginHost(), guest), dir.path());
        LOG.info(() -> String.format("LH %s restarted from %s for %s@%s%s", id, dir.path(), c.getUser(), req.getOriginHost(),
                sameLh ? "" : " (a fork of " + meta.getLhId() + ")"));
        announcer.accept(id);
        if (guest) {
            admission.started();
        }
        return CreateLhReply.newBuilder().setLhId(id).setHost(hostName)
                .setHostPid(lh.launched().programHostPid()).addAllWarnings(lh.launched().warnings()).build();
    }

    /** Wires the migration roles in (they need the cluster, which is built after this). */
    public void migration(MigrationSource source, MigrationTarget target) {
        this.migrationSource = source;
        this.migrationTarget = target;
    }

    public MigrateResult migrate(PeerMigrateRequest req, Consumer<dev.ferry.proto.v1.MigrateProgress> progress) throws FerryException {
        HostedLh lh = find(req.getLhId(), req.getCaller());
        return migrationSource.migrate(lh, req.getTo(), !req.getNoPrecopy(), progress);
    }

    public MigrationTarget target() {
        return migrationTarget;
    }

    public CheckpointResult checkpoint(PeerCheckpointRequest req) throws FerryException {
        HostedLh lh = settled(find(req.getLhId(), req.getCaller()));
        return checkpointer.checkpoint(lh, req.getCaller(), req.getDir(), req.getLeaveRunning());
    }

    private static void validate(String id, ProgramSpec spec) throws FerryException {
        if (!id.matches("[a-z0-9]{1,32}")) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "bad logical host id '%s'", id);
        }
        if (spec.getArgvCount() == 0 || spec.getArgv(0).isEmpty()) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "no program given");
        }
        if (!spec.getCwd().startsWith("/")) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "working directory must be absolute, got '%s'", spec.getCwd());
        }
        long size = 0;
        for (String a : spec.getArgvList()) {
            size += a.length() + 1;
        }
        for (String e : spec.getEnvList()) {
            size += e.length() + 1;
        }
        if (size > MAX_ARGS_BYTES) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT,
                    "arguments and environment are too large (%d bytes; the limit is %d)", size, MAX_ARGS_BYTES);
        }
    }

    private static List<RlimitSpec> toSpecs(List<Rlimit> limits) {
        return limits.stream().map(l -> new RlimitSpec(l.getResource(), l.getSoft(), l.getHard())).toList();
    }

    /** The LH if it is here and the caller may act on it. */
    public HostedLh find(String id, Caller caller) throws FerryException {
        HostedLh lh = registry.get(id).orElseThrow(() ->
                FerryException.of(ErrorCode.NOT_FOUND, "no logical host %s on %s", id, hostName));
        if (!permissions.mayActOn(caller, lh.owner())) {
            LOG.warning(() -> "denied " + caller.getUser() + "@" + caller.getHost() + " access to LH " + id);
            throw FerryException.of(ErrorCode.PERMISSION_DENIED, "%s may not act on logical host %s (owned by %s)",
                    caller.getUser(), id, lh.owner().caller().getUser());
        }
        return lh;
    }

    /** How long a request for a moving LH is held before it fails. */
    private static final long HOLD_DURING_MIGRATION_MS = 120_000;

    /**
     * A request for an LH that is moving is held until the move ends, then acts here (it
     * stayed) or fails with "moved to D" (NOT_FOUND), which makes the caller's manager drop its
     * binding, ask the group again and retry at D.
     */
    private HostedLh settled(HostedLh lh) throws FerryException {
        try {
            if (!lh.awaitMigrationEnd(HOLD_DURING_MIGRATION_MS)) {
                throw FerryException.of(ErrorCode.UNAVAILABLE, "logical host %s is still moving; try again", lh.id());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw FerryException.of(ErrorCode.UNAVAILABLE, "interrupted while %s was moving", lh.id());
        }
        if (lh.movedTo() != null) {
            throw FerryException.of(ErrorCode.NOT_FOUND, "logical host %s moved to %s", lh.id(), lh.movedTo().host());
        }
        return lh;
    }

    public ListLhsReply list(Caller caller) {
        ListLhsReply.Builder b = ListLhsReply.newBuilder();
        for (HostedLh lh : registry.all()) {
            if (lh.movedTo() == null) {
                b.addLhs(registry.describe(lh));
            }
        }
        return b.build();
    }

    public void control(String id, Caller caller, ControlAction action) throws FerryException {
        HostedLh lh = settled(find(id, caller));
        if (lh.exit().isDone()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s has exited", id);
        }
        if (action != ControlAction.KILL && (lh.inDoubt() || lh.migrating())) {
            // Thawing a copy whose move may have committed could run two copies; stopping one
            // mid-move would be undone by a rollback. Killing stays allowed (README: in doubt).
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s is %s; try again when that is over", id,
                    lh.inDoubt() ? "in doubt after a move (its copy here stays frozen until the destination answers)" : "moving");
        }
        try {
            switch (action) {
                case KILL -> lh.kill();
                case STOP -> lh.stop();
                case CONT -> lh.cont();
                default -> throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "unknown action %s", action);
            }
        } catch (IOException e) {
            throw new FerryException(ErrorCode.INTERNAL, "could not " + action.name().toLowerCase() + " " + id + ": " + e.getMessage(), e);
        }
        LOG.info(() -> action + " LH " + id + " by " + caller.getUser() + "@" + caller.getHost());
    }

    /** Delivers a signal to the program's process group, as the terminal would locally. */
    public void signal(HostedLh lh, int sig) {
        if (sig <= 0 || sig > 64) {
            return;
        }
        LOG.fine(() -> "signal " + Signals.name(sig) + " to LH " + lh.id());
        lh.launched().signalGroup(sig);
    }

    public HostStatus status() {
        return state.status();
    }
}
