package dev.ferry.pm.local;

import com.google.protobuf.ByteString;
import dev.ferry.lhcache.Binding;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.group.HostSelector;
import dev.ferry.pm.peer.StatusCodes;
import dev.ferry.proto.v1.AttachDown;
import dev.ferry.proto.v1.AttachOpen;
import dev.ferry.proto.v1.AttachUp;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.CreateLhReply;
import dev.ferry.proto.v1.CreateLhRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.OutputAck;
import dev.ferry.proto.v1.OutputChunk;
import dev.ferry.proto.v1.OutputStream;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import dev.ferry.proto.v1.Started;
import dev.ferry.proto.v1.StdinChunk;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Logger;

/**
 * The requesting side of `run`: creates the LH on the chosen host, then relays between the
 * user's command (local socket) and the LH's Attach stream wherever the LH is.
 *
 * <p>Byte accounting: stdout/stderr chunks carry offsets; bytes already delivered are skipped,
 * so re-attaching (after a broken link, or after the LH moved) never repeats or loses output.
 * Stdin is kept until the host acknowledges it was written into the program's pipe, and is
 * resent from the acknowledged offset after re-attaching.
 */
final class RunRelay {
    private static final Logger LOG = Logger.getLogger(RunRelay.class.getName());
    private static final long CREATE_TIMEOUT_MS = 15_000;
    private static final int ACK_EVERY = 1 << 20;
    private static final int MAX_REATTACH = 20;
    /** How many volunteers of a '*' run may refuse (their owner came back) before run gives up. */
    private static final int MAX_REFUSALS = 2;

    private final Caller caller;
    private final RunRequest request;
    private final LocalFrames frames;
    private final Cluster cluster;
    private final StdinBuffer stdin = new StdinBuffer(8 << 20);

    private volatile String lhId;
    private volatile String host;
    private volatile String address;
    private long stdoutSeen;
    private long stderrSeen;
    private long lastAck;
    private volatile ClientCallStreamObserver<AttachUp> up;

    RunRelay(Caller caller, RunRequest request, LocalFrames frames, Cluster cluster) {
        this.caller = caller;
        this.request = request;
        this.frames = frames;
        this.cluster = cluster;
    }

    void run(String lhIdToUse) throws IOException {
        try {
            HostSelector.Choice where = cluster.destination(request.getDestination());
            CreateLhReply created;
            List<String> refused = new ArrayList<>();
            while (true) {
                try {
                    created = create(lhIdToUse, where);
                    break;
                } catch (FerryException e) {
                    // A volunteer whose owner came back between its answer and this request
                    // refuses; for '*' any other willing host will do.
                    if (!Cluster.isAnyHost(request.getDestination()) || e.code() != ErrorCode.PERMISSION_DENIED
                            || refused.size() >= MAX_REFUSALS) {
                        throw e;
                    }
                    LOG.info("host " + where.host() + " refused the guest (" + e.getMessage() + "); asking another");
                    refused.add(where.host());
                    where = cluster.selectExcluding(refused);
                }
            }
            lhId = created.getLhId();
            host = created.getHost();
            address = where.address();
            cluster.lhCache().learn(new Binding(lhId, host, address, 0));
            frames.write(ServerFrame.newBuilder().setStarted(Started.newBuilder()
                    .setLhId(lhId).setHost(host).setHostPid(created.getHostPid())).build());
            for (String w : created.getWarningsList()) {
                frames.write(ServerFrame.newBuilder().setWarning(w).build());
            }
        } catch (FerryException e) {
            frames.write(ServerFrame.newBuilder().setError(e.toProto()).build());
            return;
        }
        Thread reader = new Thread(this::readClient, "run-client-" + lhId);
        reader.setDaemon(true);
        reader.start();
        ExitStatus exit = attachUntilExit();
        frames.write(ServerFrame.newBuilder().setExit(exit).build());
    }

    private CreateLhReply create(String id, HostSelector.Choice where) throws FerryException {
        CreateLhRequest req = CreateLhRequest.newBuilder().setLhId(id).setCaller(caller)
                .setSpec(request.getSpec()).setOriginHost(cluster.selfHost()).setRestartDir(request.getRestartDir()).build();
        try {
            return cluster.peers().blocking(where.address(), CREATE_TIMEOUT_MS).createLh(req);
        } catch (RuntimeException e) {
            FerryException fe = StatusCodes.fromGrpc(e, "host " + where.host());
            if (fe.code() == ErrorCode.UNAVAILABLE) {
                cluster.hostUnreachable(where.host(), where.address());
            }
            throw fe;
        }
    }

    /** Attaches, and re-attaches wherever the LH is, until its exit status arrives. */
    private ExitStatus attachUntilExit() {
        FerryException last = null;
        for (int attempt = 0; attempt < MAX_REATTACH; attempt++) {
            CompletableFuture<ExitStatus> done = new CompletableFuture<>();
            attach(done);
            try {
                return done.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof LhMoved) {
                    attempt = -1; // not a failure: follow it at once, with a fresh budget
                    continue;
                }
                last = e.getCause() instanceof FerryException fe ? fe
                        : StatusCodes.fromGrpc(e.getCause(), "host " + host);
                LOG.info("attach to " + lhId + " on " + host + " broke: " + last.getMessage());
                if (!relocate(last)) {
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            sleepQuietly(Math.min(1000, 50L << Math.min(attempt, 5)));
        }
        String why = last == null ? "interrupted" : last.getMessage();
        return ExitStatus.newBuilder().setCode(255)
                .setMessage("lost contact with logical host " + lhId + " on " + host + ": " + why).build();
    }

    /** After a broken attach: find where the LH is now. False if it cannot be anywhere. */
    private boolean relocate(FerryException why) {
        if (why.code() == ErrorCode.PERMISSION_DENIED || why.code() == ErrorCode.INVALID_ARGUMENT) {
            return false;
        }
        cluster.forgetBinding(lhId, address);
        return cluster.locate(lhId).map(b -> {
            host = b.host();
            address = b.address();
            return true;
        }).orElse(why.code() == ErrorCode.UNAVAILABLE); // the host may come back: keep trying for a while
    }

    /**
     * Opens a new Attach stream and replays unacknowledged stdin on it. All of it happens with
     * the stdin buffer held, so no new stdin chunk can overtake the open message or the replay.
     */
    private void attach(CompletableFuture<ExitStatus> done) {
        stdin.whileHeld(() -> openStream(done));
    }

    private void openStream(CompletableFuture<ExitStatus> done) {
        cluster.peers().async(address).attach(new ClientResponseObserver<AttachUp, AttachDown>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<AttachUp> requestStream) {
                requestStream.disableAutoRequestWithInitial(1);
                up = requestStream;
            }

            @Override
            public void onNext(AttachDown down) {
                try {
                    handle(down, done);
                } catch (IOException e) {
                    // The user's command is gone: hang up like a terminal would.
                    send(AttachUp.newBuilder().setSignal(1).build());
                    done.completeExceptionally(new FerryException(ErrorCode.UNAVAILABLE, "run command went away"));
                }
                up.request(1);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.completeExceptionally(new FerryException(ErrorCode.UNAVAILABLE, "attach ended without an exit status"));
            }
        });
        send(AttachUp.newBuilder().setOpen(AttachOpen.newBuilder().setLhId(lhId).setCaller(caller)
                .setStdoutFrom(stdoutSeen).setStderrFrom(stderrSeen)).build());
        stdin.replay(this::sendStdin);
    }

    private void handle(AttachDown down, CompletableFuture<ExitStatus> done) throws IOException {
        switch (down.getKindCase()) {
            case OUTPUT -> deliver(down.getOutput());
            case STDIN_ACKED -> stdin.acked(down.getStdinAcked());
            case EXIT -> done.complete(down.getExit());
            case MOVED -> {
                host = down.getMoved().getHost();
                address = down.getMoved().getAddress();
                cluster.lhCache().learn(new Binding(lhId, host, address, 0));
                done.completeExceptionally(new LhMoved());
            }
            default -> { }
        }
    }

    private void deliver(OutputChunk c) throws IOException {
        boolean isOut = c.getStream() == OutputStream.STDOUT;
        long seen = isOut ? stdoutSeen : stderrSeen;
        long end = c.getOffset() + c.getData().size();
        if (end <= seen || c.getOffset() > seen) {
            return; // a repeat after re-attaching, or (never expected) a gap
        }
        ByteString fresh = c.getData().substring((int) (seen - c.getOffset()));
        frames.write(isOut ? ServerFrame.newBuilder().setStdout(fresh).build() : ServerFrame.newBuilder().setStderr(fresh).build());
        if (isOut) {
            stdoutSeen = end;
        } else {
            stderrSeen = end;
        }
        if (stdoutSeen + stderrSeen - lastAck >= ACK_EVERY) {
            lastAck = stdoutSeen + stderrSeen;
            send(AttachUp.newBuilder().setAck(OutputAck.newBuilder().setStdout(stdoutSeen).setStderr(stderrSeen)).build());
        }
    }

    /** Reads the user's command: stdin and signals go to the LH. */
    private void readClient() {
        try {
            while (true) {
                ClientFrame f = frames.read(ClientFrame.parser());
                if (f == null) {
                    send(AttachUp.newBuilder().setSignal(1).build()); // SIGHUP: the command is gone
                    return;
                }
                switch (f.getKindCase()) {
                    case STDIN -> stdin.add(f.getStdin().toByteArray(), false, this::sendStdin);
                    case STDIN_EOF -> stdin.add(new byte[0], true, this::sendStdin);
                    case SIGNAL -> send(AttachUp.newBuilder().setSignal(f.getSignal()).build());
                    default -> { }
                }
            }
        } catch (IOException | FerryException e) {
            send(AttachUp.newBuilder().setSignal(1).build());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sendStdin(long offset, byte[] data, boolean eof) {
        send(AttachUp.newBuilder().setStdin(StdinChunk.newBuilder()
                .setOffset(offset).setData(ByteString.copyFrom(data)).setEof(eof)).build());
    }

    private synchronized void send(AttachUp msg) {
        ClientCallStreamObserver<AttachUp> s = up;
        if (s == null) {
            return;
        }
        try {
            s.onNext(msg);
        } catch (RuntimeException e) {
            // the stream broke; the next attach resends what matters
        }
    }

    /** The attach ended because the LH moved; host and address already name its new place. */
    private static final class LhMoved extends Exception {
        LhMoved() {
            super("moved", null, false, false);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
