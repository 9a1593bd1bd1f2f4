package dev.ferry.pm.local;

import dev.ferry.lhcache.Binding;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.peer.StatusCodes;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CheckpointReply;
import dev.ferry.proto.v1.CheckpointRequest;
import dev.ferry.proto.v1.CheckpointResult;
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

    private Binding target(Caller caller, String target) throws FerryException {
        if (target.matches("[a-z0-9]{1,32}")) {
            Optional<Binding> byId = cluster.locate(target);
            if (byId.isPresent()) {
                return byId.get();
            }
        }
        List<LhInfo> matches = new ArrayList<>();
        try {
            for (LhInfo lh : cluster.peers().blocking(cluster.selfAddress(), CALL_TIMEOUT_MS)
                    .listLhs(ListLhsRequest.newBuilder().setCaller(caller).build()).getLhsList()) {
                boolean mayAct = caller.getUid() == 0 || caller.getUid() == lh.getUid();
                if (lh.getProgram().equals(target) && !lh.getState().equals("exited") && mayAct) {
                    matches.add(lh);
                }
            }
        } catch (RuntimeException e) {
            throw StatusCodes.fromGrpc(e, "this host's manager");
        }
        if (matches.isEmpty()) {
            throw FerryException.of(ErrorCode.NOT_FOUND, "no logical host %s, and no program %s of yours on %s (see lhosts)",
                    target, target, cluster.selfHost());
        }
        if (matches.size() > 1) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "%d programs named %s run on %s (%s): name one by its LH id",
                    matches.size(), target, cluster.selfHost(), String.join(", ", matches.stream().map(LhInfo::getId).toList()));
        }
        return new Binding(matches.get(0).getId(), cluster.selfHost(), cluster.selfAddress(), 0);
    }

    ControlReply control(Caller caller, ControlRequest req) {
        try {
            Binding b = cluster.locate(req.getLhId()).orElseThrow(() -> FerryException.of(ErrorCode.NOT_FOUND,
                    "no logical host %s in the cluster (see lhosts)", req.getLhId()));
            try {
                cluster.peers().blocking(b.address(), CALL_TIMEOUT_MS).control(PeerControlRequest.newBuilder()
                        .setLhId(req.getLhId()).setCaller(caller).setAction(req.getAction()).build());
            } catch (RuntimeException e) {
                FerryException fe = StatusCodes.fromGrpc(e, "host " + b.host());
                if (fe.code() == ErrorCode.UNAVAILABLE || fe.code() == ErrorCode.NOT_FOUND) {
                    cluster.forgetBinding(req.getLhId(), b.address());
                }
                throw fe;
            }
            return ControlReply.newBuilder().setHost(b.host()).build();
        } catch (FerryException e) {
            return ControlReply.newBuilder().setError(e.toProto()).build();
        }
    }
}
