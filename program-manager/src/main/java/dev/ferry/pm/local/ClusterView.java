package dev.ferry.pm.local;

import dev.ferry.lhcache.Binding;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.peer.StatusCodes;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CheckpointReply;
import dev.ferry.proto.v1.CheckpointRequest;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.ControlAction;
import dev.ferry.proto.v1.MigrateEvent;
import dev.ferry.proto.v1.MigrateProgress;
import dev.ferry.proto.v1.MigrateReply;
import java.util.Iterator;
import java.util.function.Consumer;
import dev.ferry.proto.v1.MigrateRequest;
import dev.ferry.proto.v1.MigrateResult;
import dev.ferry.proto.v1.PeerMigrateRequest;
import dev.ferry.proto.v1.PeerCheckpointRequest;
import dev.ferry.proto.v1.ControlReply;
import dev.ferry.proto.v1.ControlRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.HostsReply;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ListLhsRequest;
import dev.ferry.proto.v1.ListReply;
import dev.ferry.proto.v1.PeerControlRequest;
import dev.ferry.proto.v1.StatusRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/** The whole cluster as `lhosts` sees it: every host asked in parallel, failures named. */
final class ClusterView {
    private static final Duration SURVEY_WINDOW = Duration.ofMillis(150);
    private static final long CALL_TIMEOUT_MS = 3_000;
    /** Writing a large image to slow storage takes a while. */
    private static final long CHECKPOINT_TIMEOUT_MS = 300_000;

    private final Cluster cluster;
    private final ExecutorService pool;

    ClusterView(Cluster cluster, ExecutorService pool) {
        this.cluster = cluster;
        this.pool = pool;
    }

    ListReply list(Caller caller) {
        Map<String, String> hosts = cluster.allHosts(SURVEY_WINDOW);
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        for (Map.Entry<String, String> h : hosts.entrySet()) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return cluster.peers().blocking(h.getValue(), CALL_TIMEOUT_MS)
                            .listLhs(ListLhsRequest.newBuilder().setCaller(caller).build());
                } catch (RuntimeException e) {
                    return StatusCodes.fromGrpc(e, "host " + h.getKey()).toProto();
                }
            }, pool));
        }
        ListReply.Builder out = ListReply.newBuilder();
        List<LhInfo> all = new ArrayList<>();
        for (CompletableFuture<Object> c : calls) {
            Object r = c.join();
            if (r instanceof dev.ferry.proto.v1.ListLhsReply reply) {
                all.addAll(reply.getLhsList());
            } else {
                out.addErrors((FerryError) r);
            }
        }
        all.sort((a, b) -> a.getHost().equals(b.getHost()) ? Long.compare(a.getStartedMs(), b.getStartedMs())
                : a.getHost().compareTo(b.getHost()));
        for (LhInfo lh : all) {
            cluster.lhCache().learn(new Binding(lh.getId(), lh.getHost(), hosts.get(lh.getHost()), 0));
        }
        return out.addAllLhs(all).build();
    }

    HostsReply hosts() {
        Map<String, String> hosts = cluster.allHosts(SURVEY_WINDOW);
        List<CompletableFuture<dev.ferry.proto.v1.HostStatus>> calls = new ArrayList<>();
        for (Map.Entry<String, String> h : hosts.entrySet()) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return cluster.peers().blocking(h.getValue(), CALL_TIMEOUT_MS).status(StatusRequest.getDefaultInstance());
                } catch (RuntimeException e) {
                    return null;
                }
            }, pool));
        }
        HostsReply.Builder out = HostsReply.newBuilder();
        calls.stream().map(CompletableFuture::join).filter(s -> s != null).forEach(out::addHosts);
        return out.build();
    }

    /**
     * Checkpoints the LH named by id (anywhere), or by program name (on this host; it must name
     * exactly one LH the caller may act on).
     */
    CheckpointReply checkpoint(Caller caller, CheckpointRequest req) {
        try {
            Binding b = target(caller, req.getTarget());
            try {
                CheckpointResult r = cluster.peers().blocking(b.address(), CHECKPOINT_TIMEOUT_MS).checkpoint(PeerCheckpointRequest.newBuilder()
                        .setLhId(b.lhId()).setCaller(caller).setDir(req.getDir()).setLeaveRunning(req.getLeaveRunning()).build());
                return CheckpointReply.newBuilder().addResults(r).build();
            } catch (RuntimeException e) {
                throw StatusCodes.fromGrpc(e, "host " + b.host());
            }
        } catch (FerryException e) {
            return CheckpointReply.newBuilder().setError(e.toProto()).build();
        }
    }

    /**
     * `migrateprog`: moves each named LH (or every guest of this host) to another host, one
     * after the other; what could not move stays, or is destroyed with -n when no host took it.
     */
    MigrateReply migrate(Caller caller, MigrateRequest req, Consumer<MigrateProgress> progress) {
        List<Binding> targets = new ArrayList<>();
        try {
            if (req.getTargetsCount() == 0) {
                for (LhInfo lh : localLhs(caller)) {
                    if (lh.getGuest()) {
                        targets.add(new Binding(lh.getId(), cluster.selfHost(), cluster.selfAddress(), 0));
                    }
                }
            } else {
                for (String t : req.getTargetsList()) {
                    targets.addAll(targets(caller, t));
                }
            }
        } catch (FerryException e) {
            return MigrateReply.newBuilder().setError(e.toProto()).build();
        }
        MigrateReply.Builder out = MigrateReply.newBuilder();
        for (Binding b : targets) {
            out.addResults(migrateOne(caller, b, req, progress));
        }
        return out.build();
    }

    private MigrateResult migrateOne(Caller caller, Binding b, MigrateRequest req, Consumer<MigrateProgress> progress) {
        try {
            Iterator<MigrateEvent> events = cluster.peers().blocking(b.address(), CHECKPOINT_TIMEOUT_MS).migrate(PeerMigrateRequest.newBuilder()
                    .setLhId(b.lhId()).setCaller(caller).setTo(req.getTo()).setNoPrecopy(req.getNoPrecopy()).build());
            while (events.hasNext()) {
                MigrateEvent e = events.next();
                if (e.hasResult()) {
                    return e.getResult();
                }
                progress.accept(e.getProgress());
            }
            throw new io.grpc.StatusRuntimeException(io.grpc.Status.INTERNAL.withDescription("the migration ended without a result"));
        } catch (RuntimeException e) {
            FerryException fe = StatusCodes.fromGrpc(e, "host " + b.host());
            MigrateResult.Builder r = MigrateResult.newBuilder().setLhId(b.lhId()).setFrom(b.host()).setMoved(false)
                    .setError(fe.getMessage());
            if (req.getDestroyIfStuck() && fe.code() == ErrorCode.UNAVAILABLE) {
                ControlReply killed = control(caller, ControlRequest.newBuilder().setLhId(b.lhId()).setAction(ControlAction.KILL).build());
                r.setDestroyed(!killed.hasError());
            }
            return r.build();
        }
    }

    private List<LhInfo> localLhs(Caller caller) throws FerryException {
        List<LhInfo> mine = new ArrayList<>();
        try {
            for (LhInfo lh : cluster.peers().blocking(cluster.selfAddress(), CALL_TIMEOUT_MS)
                    .listLhs(ListLhsRequest.newBuilder().setCaller(caller).build()).getLhsList()) {
                boolean mayAct = caller.getUid() == 0 || caller.getUid() == lh.getUid();
                if (mayAct && !lh.getState().equals("exited")) {
                    mine.add(lh);
                }
            }
        } catch (RuntimeException e) {
            throw StatusCodes.fromGrpc(e, "this host's manager");
        }
        return mine;
    }

    /** An LH id (anywhere), or every LH of this program name on this host the caller may act on. */
    private List<Binding> targets(Caller caller, String target) throws FerryException {
        if (target.matches("[a-z0-9]{1,32}")) {
            Optional<Binding> byId = cluster.locate(target);
            if (byId.isPresent()) {
                return List.of(byId.get());
            }
        }
        List<Binding> found = new ArrayList<>();
        for (LhInfo lh : localLhs(caller)) {
            if (lh.getProgram().equals(target)) {
                found.add(new Binding(lh.getId(), cluster.selfHost(), cluster.selfAddress(), 0));
            }
        }
        if (found.isEmpty()) {
            throw FerryException.of(ErrorCode.NOT_FOUND, "no logical host %s, and no program %s of yours on %s (see lhosts)",
                    target, target, cluster.selfHost());
        }
        return found;
    }

    /** Exactly one LH: an id, or a program name that matches one LH of the caller's on this host. */
    private Binding target(Caller caller, String target) throws FerryException {
        List<Binding> matches = targets(caller, target);
        if (matches.size() > 1) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "%d programs named %s run on %s (%s): name one by its LH id",
                    matches.size(), target, cluster.selfHost(), String.join(", ", matches.stream().map(Binding::lhId).toList()));
        }
        return matches.get(0);
    }

    ControlReply control(Caller caller, ControlRequest req) {
        try {
            return controlAt(caller, req, locate(req.getLhId()), true);
        } catch (FerryException e) {
            return ControlReply.newBuilder().setError(e.toProto()).build();
        }
    }

    private Binding locate(String lhId) throws FerryException {
        return cluster.locate(lhId).orElseThrow(() -> FerryException.of(ErrorCode.NOT_FOUND,
                "no logical host %s in the cluster (see lhosts)", lhId));
    }

    /** At the bound host; if it says the LH is not (or no longer) there, once more wherever the group now says. */
    private ControlReply controlAt(Caller caller, ControlRequest req, Binding b, boolean mayRetry) throws FerryException {
        try {
            cluster.peers().blocking(b.address(), HELD_CALL_TIMEOUT_MS).control(PeerControlRequest.newBuilder()
                    .setLhId(req.getLhId()).setCaller(caller).setAction(req.getAction()).build());
            return ControlReply.newBuilder().setHost(b.host()).build();
        } catch (RuntimeException e) {
            FerryException fe = StatusCodes.fromGrpc(e, "host " + b.host());
            if (fe.code() == ErrorCode.UNAVAILABLE || fe.code() == ErrorCode.NOT_FOUND) {
                cluster.forgetBinding(req.getLhId(), b.address());
                if (mayRetry) {
                    Binding again = cluster.locate(req.getLhId()).orElse(null);
                    if (again != null && !again.address().equals(b.address())) {
                        return controlAt(caller, req, again, false);   // it moved: follow it once
                    }
                }
            }
            throw fe;
        }
    }

    /** A control call may be held while its LH moves (LhHost.settled). */
    private static final long HELD_CALL_TIMEOUT_MS = 130_000;
}
