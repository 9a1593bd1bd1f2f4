package dev.ferry.pm.peer;

import dev.ferry.pm.FerryException;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.proto.v1.AttachDown;
import dev.ferry.proto.v1.AttachOpen;
import dev.ferry.proto.v1.AttachUp;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.CommitLhReply;
import dev.ferry.proto.v1.CommitLhRequest;
import dev.ferry.proto.v1.LhReady;
import dev.ferry.proto.v1.LhTransfer;
import dev.ferry.proto.v1.MigrateResult;
import dev.ferry.proto.v1.PeerMigrateRequest;
import dev.ferry.pm.migrate.MigrationTarget;
import dev.ferry.proto.v1.PeerCheckpointRequest;
import dev.ferry.proto.v1.CreateLhReply;
import dev.ferry.proto.v1.CreateLhRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LhReceipt;
import dev.ferry.proto.v1.MigrateEvent;
import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.ListLhsReply;
import dev.ferry.proto.v1.ListLhsRequest;
import dev.ferry.proto.v1.PeerControlReply;
import dev.ferry.proto.v1.PeerControlRequest;
import dev.ferry.proto.v1.ProgramManagerGrpc;
import dev.ferry.proto.v1.StatusRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.logging.Logger;

/** The gRPC face of a program manager to the other managers: thin, all decisions are in {@link LhHost}. */
public final class PeerService extends ProgramManagerGrpc.ProgramManagerImplBase {
    private static final Logger LOG = Logger.getLogger(PeerService.class.getName());
    private final LhHost host;
    private final TestFaults faults;

    public PeerService(LhHost host) {
        this(host, TestFaults.NONE);
    }

    /** {@code faults}: only for the fault-injection tests (see {@link TestFaults}). */
    public PeerService(LhHost host, TestFaults faults) {
        this.host = host;
        this.faults = faults;
    }

    @Override
    public void createLh(CreateLhRequest request, StreamObserver<CreateLhReply> reply) {
        try {
            reply.onNext(host.create(request));
            reply.onCompleted();
        } catch (FerryException e) {
            LOG.info(() -> "refused to create LH for " + request.getCaller().getUser() + "@" + request.getOriginHost() + ": " + e.getMessage());
            reply.onError(StatusCodes.toGrpc(e));
        }
    }

    @Override
    public StreamObserver<AttachUp> attach(StreamObserver<AttachDown> replyObserver) {
        ServerCallStreamObserver<AttachDown> reply = (ServerCallStreamObserver<AttachDown>) replyObserver;
        reply.disableAutoRequest();
        reply.request(1);
        AttachSession session = new AttachSession(reply);
        return new StreamObserver<>() {
            @Override
            public void onNext(AttachUp up) {
                if (!session.opened()) {
                    if (!up.hasOpen()) {
                        reply.onError(Status.INVALID_ARGUMENT.withDescription("first Attach message must be open").asRuntimeException());
                        return;
                    }
                    try {
                        open(up.getOpen(), session);
                        reply.request(1);
                    } catch (FerryException e) {
                        reply.onError(StatusCodes.toGrpc(e));
                    }
                    return;
                }
                session.onUp(up, () -> reply.request(1));
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; the LH goes on and its output waits in the logs.
            }

            @Override
            public void onCompleted() {
                // Half-close from the client: output keeps flowing until the exit.
            }
        };
    }

    private void open(AttachOpen open, AttachSession session) throws FerryException {
        HostedLh lh = host.find(open.getLhId(), open.getCaller());
        if (open.getStdoutFrom() < 0 || open.getStdoutFrom() > lh.stdout().end()
                || open.getStderrFrom() > lh.stderr().end()) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "attach offsets beyond the output of %s", lh.id());
        }
        session.open(lh, open.getStdoutFrom(), open.getStderrFrom(), sig -> host.signal(lh, sig));
    }

    @Override
    public void listLhs(ListLhsRequest request, StreamObserver<ListLhsReply> reply) {
        reply.onNext(host.list(request.getCaller()));
        reply.onCompleted();
    }

    @Override
    public void control(PeerControlRequest request, StreamObserver<PeerControlReply> reply) {
        try {
            host.control(request.getLhId(), request.getCaller(), request.getAction());
            reply.onNext(PeerControlReply.getDefaultInstance());
            reply.onCompleted();
        } catch (FerryException e) {
            reply.onError(StatusCodes.toGrpc(e));
        }
    }

    @Override
    public void checkpoint(PeerCheckpointRequest request, StreamObserver<CheckpointResult> reply) {
        try {
            reply.onNext(host.checkpoint(request));
            reply.onCompleted();
        } catch (FerryException e) {
            LOG.info(() -> "checkpoint of " + request.getLhId() + " refused: " + e.getMessage());
            reply.onError(StatusCodes.toGrpc(e));
        }
    }

    @Override
    public void migrate(PeerMigrateRequest request, StreamObserver<MigrateEvent> reply) {
        try {
            MigrateResult result = host.migrate(request, p -> {
                synchronized (reply) {
                    reply.onNext(MigrateEvent.newBuilder().setProgress(p).build());
                }
            });
            synchronized (reply) {
                reply.onNext(MigrateEvent.newBuilder().setResult(result).build());
            }
            reply.onCompleted();
        } catch (FerryException e) {
            LOG.info(() -> "migration of " + request.getLhId() + " did not happen: " + e.getMessage());
            reply.onError(StatusCodes.toGrpc(e));
        }
    }

    @Override
    public StreamObserver<LhTransfer> receiveLh(StreamObserver<LhReceipt> reply) {
        MigrationTarget.Transfer transfer = host.target().newTransfer();
        return new StreamObserver<>() {
            private boolean failed;

            @Override
            public void onNext(LhTransfer msg) {
                if (failed) {
                    return;
                }
                try {
                    transfer.accept(msg);
                    if (msg.hasRoundEnd()) {
                        reply.onNext(LhReceipt.newBuilder().setRoundApplied(msg.getRoundEnd()).build());
                    }
                } catch (FerryException e) {
                    failed = true;
                    reply.onError(StatusCodes.toGrpc(e));
                }
            }

            @Override
            public void onError(Throwable t) {
                // The source cancelled, its deadline passed, or the connection died (keepalive).
                transfer.abandon(Status.fromThrowable(t).toString());
            }

            @Override
            public void onCompleted() {
                if (failed) {
                    return;
                }
                try {
                    reply.onNext(LhReceipt.newBuilder().setReady(transfer.finish()).build());
                    reply.onCompleted();
                } catch (FerryException e) {
                    reply.onError(StatusCodes.toGrpc(e));
                }
            }
        };
    }

    @Override
    public void commitLh(CommitLhRequest request, StreamObserver<CommitLhReply> reply) {
        try {
            host.target().commit(request.getLhId(), request.getGo());
            if (request.getGo() && faults.dropCommitReply()) {
                // Test fault: the commit is done, its answer is lost; the caller's deadline ends the call.
                LOG.warning(() -> "TEST FAULT: not answering CommitLh(go) of " + request.getLhId() + " ("
                        + faults.commitRepliesDropped() + " of " + faults + ")");
                return;
            }
            reply.onNext(CommitLhReply.getDefaultInstance());
            reply.onCompleted();
        } catch (FerryException e) {
            reply.onError(StatusCodes.toGrpc(e));
        }
    }

    @Override
    public void status(StatusRequest request, StreamObserver<HostStatus> reply) {
        reply.onNext(host.status());
        reply.onCompleted();
    }
}
