package dev.ferry.pm.migrate;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CaptureException;
import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.group.HostSelector;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.peer.StatusCodes;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.CommitLhRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LhReady;
import dev.ferry.proto.v1.LhTransfer;
import dev.ferry.proto.v1.MigrateResult;
import dev.ferry.proto.v1.TransferHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * The source side of moving a running LH to another host (stop-and-copy; pre-copy rounds will
 * come before the freeze). The state machine, V's five steps:
 *
 * <pre>
 *  1 locate D (--to, or multicast "who takes a guest?" excluding this host)
 *  2 freeze: stdin writing paused, the program captured into a private image and left FROZEN
 *    (no tracer), its output pipes drained into the logs: the stream offsets are now final
 *  3 transfer the image and the offsets to D, which rebuilds it frozen and answers READY
 *  4 commit: GO to D; D thaws it and announces the new binding
 *  5 the frozen copy here is destroyed; attached clients get their remaining output, then
 *    "moved to D", and follow it
 * </pre>
 * Any failure before GO rolls back: D is told to abort, the program thaws here and goes on,
 * stdin writing resumes. Once GO is sent this copy never runs again; if GO's answer is lost
 * the source asks again (CommitLh is idempotent), and while it cannot learn the outcome the
 * frozen copy stays frozen ("in doubt") rather than risk two copies running.
 */
public final class MigrationSource {
    private static final Logger LOG = Logger.getLogger(MigrationSource.class.getName());
    private static final long TRANSFER_TIMEOUT_MS = 300_000;
    private static final long COMMIT_TIMEOUT_MS = 5_000;
    private static final int COMMIT_ATTEMPTS = 5;

    private static final long IN_DOUBT_RETRY_S = 3;

    private final Cluster cluster;
    private final Path workDir;
    private final java.util.concurrent.ScheduledExecutorService retries =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "in-doubt-retries");
                t.setDaemon(true);
                return t;
            });

    public MigrationSource(Cluster cluster, Path stateDir) {
        this.cluster = cluster;
        this.workDir = stateDir.resolve("outgoing");
    }

    public MigrateResult migrate(HostedLh lh, String to) throws FerryException {
        if (lh.exit().isDone() || lh.movedTo() != null) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s has ended or left", lh.id());
        }
        if (lh.userStopped()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s is stopped; resume it (lhosts cont %s) first", lh.id(), lh.id());
        }
        HostSelector.Choice dest = destination(to);
        long start = System.nanoTime();
        Path dir = null;
        long written;
        try {
            written = lh.stdin().pause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException(ErrorCode.INTERNAL, "interrupted");
        }
        boolean frozenHere = false;
        try {
            Files.createDirectories(workDir);
            dir = Files.createTempDirectory(workDir, lh.id() + "-");
            lh.markMigrating(true);
            long frozenAt = System.nanoTime();
            new ProcessCapture().captureTo(lh.id(), lh.launched().cgroup(), AfterCapture.FREEZE, dir, false);
            frozenHere = true;
            lh.awaitOutputDrained(5_000);
            TransferHeader header = TransferHeader.newBuilder()
                    .setMeta(CheckpointMeta.newBuilder().setFormatVersion(1).setLhId(lh.id()).setOwner(lh.owner().caller())
                            .setSpec(lh.spec()).setOriginHost(lh.owner().originHost()).setHost(cluster.selfHost()))
                    .setStdoutBase(lh.stdout().end()).setStderrBase(lh.stderr().end()).setStdinWritten(written)
                    .build();
            Transfer t = transfer(dest, header, dir);
            commit(lh, dest);
            double freezeMs = (System.nanoTime() - frozenAt) / 1e6;
            leave(lh, dest);
            double totalMs = (System.nanoTime() - start) / 1e6;
            LOG.info(() -> String.format("LH %s moved to %s: %d bytes, frozen %.1f ms, %.1f ms in all",
                    lh.id(), dest.host(), t.bytes(), freezeMs, totalMs));
            return MigrateResult.newBuilder().setLhId(lh.id()).setProgram(lh.program()).setFrom(cluster.selfHost())
                    .setTo(dest.host()).setRounds(0).setBytes(t.bytes()).setFreezeMs(freezeMs).setTotalMs(totalMs)
                    .setMoved(true).build();
        } catch (InDoubt e) {
            // Not UNAVAILABLE ("no host takes it"): -n must not destroy a copy that may be running at D.
            throw new FerryException(ErrorCode.DEADLINE_EXCEEDED, e.getMessage());
        } catch (CaptureRefusedException e) {
            rollBack(lh, false, dest, false);
            throw new FerryException(ErrorCode.FAILED_PRECONDITION, String.join("; ", e.blockers()), e);
        } catch (CaptureException | IOException | FerryException | RuntimeException e) {
            rollBack(lh, frozenHere, dest, true);
            if (e instanceof FerryException fe) {
                throw fe;
            }
            throw new FerryException(ErrorCode.INTERNAL, "moving " + lh.id() + " to " + dest.host() + " failed, it goes on here: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            rollBack(lh, frozenHere, dest, true);
            throw new FerryException(ErrorCode.INTERNAL, "interrupted; " + lh.id() + " goes on here");
        } finally {
            lh.markMigrating(false);
            if (dir != null) {
                ImageFiles.deleteQuietly(dir);
            }
        }
    }

    private HostSelector.Choice destination(String to) throws FerryException {
        if (to.isEmpty() || to.equals("*") || to.equals("any")) {
            return cluster.selectOther();
        }
        if (to.equals(cluster.selfHost())) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "%s is this host: name another one", to);
        }
        return new HostSelector.Choice(to, cluster.addressOf(to));
    }

    private record Transfer(long bytes, LhReady ready) {}

    private Transfer transfer(HostSelector.Choice dest, TransferHeader header, Path dir) throws FerryException, IOException {
        FlowControlledUpload<LhTransfer, LhReady> upload = new FlowControlledUpload<>(
                observer -> cluster.peers().async(dest.address()).withDeadlineAfter(TRANSFER_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS).receiveLh(observer));
        try {
            upload.send(LhTransfer.newBuilder().setHeader(header).build());
            long bytes = ImageFiles.send(dir, chunk -> upload.send(LhTransfer.newBuilder().setChunk(chunk).build()));
            return new Transfer(bytes, upload.finish());
        } catch (RuntimeException e) {
            upload.cancel(e);
            throw StatusCodes.fromGrpc(e instanceof FlowControlledUpload.Failed f ? f.getCause() : e, "host " + dest.host());
        }
    }

    /** Committed: this copy must never run again; its clients follow it to {@code dest}. */
    private static void leave(HostedLh lh, HostSelector.Choice dest) {
        lh.markMoved(dest.host(), dest.address());
        lh.stdin().abandon();
        lh.kill();
    }

    /**
     * An in-doubt LH stays frozen here; GO is resent every few seconds until the destination
     * confirms (then this copy is destroyed, as after a normal commit). Resending GO is safe:
     * the destination thaws a copy only once, and answers "done" when it already runs it.
     */
    private void resolveLater(HostedLh lh, HostSelector.Choice dest) {
        retries.schedule(() -> {
            try {
                cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(true).build());
                lh.markInDoubt("");
                leave(lh, dest);
                LOG.info(() -> "in-doubt move of " + lh.id() + " to " + dest.host() + " confirmed; the copy here is gone");
            } catch (RuntimeException e) {
                if (!lh.exit().isDone()) {
                    resolveLater(lh, dest);
                }
            }
        }, IN_DOUBT_RETRY_S, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Sends GO until the destination confirms; without an answer the outcome is in doubt. */
    private void commit(HostedLh lh, HostSelector.Choice dest) throws InDoubt {
        RuntimeException last = null;
        for (int i = 0; i < COMMIT_ATTEMPTS; i++) {
            try {
                cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(true).build());
                return;
            } catch (RuntimeException e) {
                last = e;
                LOG.warning("commit of " + lh.id() + " to " + dest.host() + " unanswered (" + e.getMessage() + "), asking again");
            }
        }
        lh.markInDoubt(dest.host());
        resolveLater(lh, dest);
        throw new InDoubt("moving " + lh.id() + " to " + dest.host() + " is in doubt: " + dest.host()
                + " did not confirm the commit (" + (last == null ? "?" : last.getMessage()) + "); it stays frozen here, and GO is"
                + " resent every " + IN_DOUBT_RETRY_S + " s until " + dest.host() + " answers");
    }

    private static final class InDoubt extends Exception {
        InDoubt(String message) {
            super(message);
        }
    }

    /** Before GO: D destroys its copy (if any), the program goes on here. */
    private void rollBack(HostedLh lh, boolean frozenHere, HostSelector.Choice dest, boolean tellDestination) {
        if (tellDestination) {
            try {
                cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(false).build());
            } catch (RuntimeException e) {
                LOG.warning("could not tell " + dest.host() + " to abort " + lh.id() + ": " + e.getMessage());
            }
        }
        if (frozenHere) {
            try {
                lh.launched().cgroup().thaw();
            } catch (IOException e) {
                LOG.severe("could not thaw " + lh.id() + " after a failed migration: " + e.getMessage());
            }
        }
        lh.stdin().resume();
        LOG.info(() -> "migration of " + lh.id() + " to " + dest.host() + " rolled back; it goes on here");
    }
}
