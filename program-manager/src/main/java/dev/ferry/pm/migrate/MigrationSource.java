package dev.ferry.pm.migrate;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CaptureException;
import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.agent.checkpoint.PageRounds;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.VmFlagsSnapshot;
import dev.ferry.agent.dirty.DirtyPages;
import dev.ferry.agent.dirty.DirtyTracker;
import dev.ferry.agent.dirty.DirtyTrackers;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.MigrateProgress;
import dev.ferry.proto.v1.PrecopyFinal;
import dev.ferry.proto.v1.PrecopyStart;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.group.HostSelector;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.peer.StatusCodes;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.CommitLhRequest;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LhReady;
import dev.ferry.proto.v1.LhReceipt;
import dev.ferry.proto.v1.LhTransfer;
import dev.ferry.proto.v1.MigrateResult;
import dev.ferry.proto.v1.TransferHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * The source side of moving a running LH to another host. The state machine, V's five steps:
 *
 * <pre>
 *  1 locate D (--to, or multicast "who takes a guest?" excluding this host)
 *  2 initialise: D creates a restore stub at once (PrecopyStart)
 *  3 pre-copy: round 1 sends every carried page while the program runs, later rounds what the
 *    dirty tracker saw written meanwhile, until {@link PrecopyPolicy} says freeze
 *  4 freeze: stdin writing paused, the LH frozen, its state captured (it stays FROZEN, no
 *    tracer), its output pipes drained into the logs (the stream offsets are now final); the
 *    state, the last dirty pages and discarded pages go to D, which finishes the process
 *    frozen and answers READY
 *  5 commit: GO to D; D thaws it and announces the new binding; the frozen copy here is
 *    destroyed; attached clients get their remaining output, then "moved to D", and follow it
 * </pre>
 * With --no-precopy, steps 2-3 are skipped and step 4 captures everything into an image that
 * goes over as files (stop-and-copy, for comparison). Any failure before GO rolls back: D is
 * told to abort, the program thaws here and goes on, stdin writing resumes. Once GO is sent
 * this copy never runs again; if GO's answer is lost the source asks again (CommitLh is
 * idempotent), and while it cannot learn the outcome the frozen copy stays frozen ("in doubt")
 * rather than risk two copies running.
 */
public final class MigrationSource {
    private static final Logger LOG = Logger.getLogger(MigrationSource.class.getName());
    /** Bounds a whole transfer; a dead link or peer is noticed much sooner, by keepalive (PeerClients). */
    private static final long TRANSFER_TIMEOUT_MS = 300_000;
    /** How long one pre-copy round may take to be applied at the destination (1 GiB takes seconds). */
    private static final long ROUND_TIMEOUT_MS = 120_000;
    /**
     * A commit answers in milliseconds (a thaw and a datagram); without an answer after
     * COMMIT_ATTEMPTS calls of COMMIT_TIMEOUT_MS each (6 s) the outcome is in doubt. Nothing
     * depends on this being long: an in-doubt move resolves itself by the retries below.
     */
    private static final long COMMIT_TIMEOUT_MS = 2_000;
    private static final int COMMIT_ATTEMPTS = 3;

    private static final long IN_DOUBT_RETRY_S = 3;
    /** The program's pid inside its LH (pid 1 is the LH's init). */
    private static final int PROGRAM_PID = 2;

    private final Cluster cluster;
    private final Path workDir;
    private final java.util.concurrent.ScheduledExecutorService retries =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "in-doubt-retries");
                t.setDaemon(true);
                return t;
            });

    private final PrecopyPolicy policy;
    private final Supplier<String> trackerName;
    private final Supplier<HostFeatures> hostFeatures;

    /**
     * @param trackerName  the dirty-page tracker the start-up probe chose
     * @param hostFeatures this host's CPU state layout and kernel, sent so a destination can refuse early
     */
    public MigrationSource(Cluster cluster, Path stateDir, PrecopyPolicy policy, Supplier<String> trackerName,
                           Supplier<HostFeatures> hostFeatures) {
        this.cluster = cluster;
        this.workDir = stateDir.resolve("outgoing");
        this.policy = policy;
        this.trackerName = trackerName;
        this.hostFeatures = hostFeatures;
    }

    /** Stop-and-copy, without progress: {@link #migrate(HostedLh, String, boolean, Consumer)}. */
    public MigrateResult migrate(HostedLh lh, String to) throws FerryException {
        return migrate(lh, to, true, p -> { });
    }

    /**
     * Moves {@code lh} to {@code to} ("" or "*": any willing host but this one), with pre-copy
     * rounds unless {@code precopy} is false; {@code progress} hears about every half second.
     */
    public MigrateResult migrate(HostedLh lh, String to, boolean precopy, Consumer<MigrateProgress> progress) throws FerryException {
        if (lh.exit().isDone() || lh.movedTo() != null) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s has ended or left", lh.id());
        }
        if (lh.userStopped()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s is stopped; resume it (lhosts cont %s) first", lh.id(), lh.id());
        }
        if (lh.migrating()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s is moving already", lh.id());
        }
        HostSelector.Choice dest = destination(to);
        long start = System.nanoTime();
        long resident = residentBytes(lh);
        Attempt attempt = new Attempt();
        MigrateProgress.Builder status = MigrateProgress.newBuilder().setLhId(lh.id()).setProgram(lh.program()).setTo(dest.host());
        lh.markMigrating(true);
        try {
            Transfer t = precopy ? precopy(lh, dest, attempt, progress, status) : stopAndCopy(lh, dest, attempt);
            progress.accept(status.setPhase("commit").build());
            long c0 = System.nanoTime();
            commit(lh, dest);
            LOG.info(() -> String.format("commit of %s: %.1f ms", lh.id(), (System.nanoTime() - c0) / 1e6));
            double freezeMs = (System.nanoTime() - attempt.frozenAt) / 1e6;
            leave(lh, dest);
            double totalMs = (System.nanoTime() - start) / 1e6;
            LOG.info(() -> String.format("LH %s moved to %s: %d rounds %s, %d bytes (resident %d), frozen %.1f ms, %.1f ms in all",
                    lh.id(), dest.host(), t.rounds(), t.roundPages(), t.bytes(), resident, freezeMs, totalMs));
            return MigrateResult.newBuilder().setLhId(lh.id()).setProgram(lh.program()).setFrom(cluster.selfHost())
                    .setTo(dest.host()).setRounds(t.rounds()).addAllRoundPages(t.roundPages()).setBytes(t.bytes())
                    .setFreezeMs(freezeMs).setTotalMs(totalMs).setTracker(t.tracker()).setResidentBytes(resident)
                    .setMoved(true).build();
        } catch (InDoubt e) {
            // Not UNAVAILABLE ("no host takes it"): -n must not destroy a copy that may be running at D.
            throw new FerryException(ErrorCode.DEADLINE_EXCEEDED, e.getMessage());
        } catch (CaptureRefusedException e) {
            rollBack(lh, attempt, dest);
            throw new FerryException(ErrorCode.FAILED_PRECONDITION, String.join("; ", e.blockers()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            rollBack(lh, attempt, dest);
            throw new FerryException(ErrorCode.INTERNAL, "interrupted; " + lh.id() + " goes on here");
        } catch (Exception e) {
            rollBack(lh, attempt, dest);
            if (e instanceof FerryException fe) {
                throw fe;
            }
            throw new FerryException(ErrorCode.INTERNAL, "moving " + lh.id() + " to " + dest.host() + " failed, it goes on here: " + e.getMessage(), e);
        } finally {
            attempt.closeKept();
            lh.markMigrating(false);
            if (attempt.dir != null) {
                ImageFiles.deleteQuietly(attempt.dir);
            }
        }
    }

    /** What a failed attempt must undo. */
    private static final class Attempt {
        boolean stdinPaused;
        boolean frozenHere;
        boolean destinationTouched;
        long frozenAt;
        Path dir;
        private final List<AutoCloseable> kept = new java.util.ArrayList<>();

        <T extends AutoCloseable> T keep(T resource) {
            kept.add(resource);
            return resource;
        }

        /** Closes what the attempt kept open, newest first; never throws. */
        void closeKept() {
            for (int i = kept.size() - 1; i >= 0; i--) {
                try {
                    kept.get(i).close();
                } catch (Exception e) {
                    LOG.fine(() -> "closing after a migration: " + e.getMessage());
                }
            }
            kept.clear();
        }
    }

    private record Transfer(long bytes, LhReady ready, int rounds, List<Long> roundPages, String tracker) {}

    /** V's pre-copy: rounds while it runs (D builds the process meanwhile), then a short freeze. */
    private Transfer precopy(HostedLh lh, HostSelector.Choice dest, Attempt attempt, Consumer<MigrateProgress> progress,
                             MigrateProgress.Builder status) throws Exception {
        new ProcessCapture().check(lh.id(), lh.launched().cgroup());   // refused before anything is sent
        int hostPid = lh.launched().programHostPid();
        RoundAcks acks = new RoundAcks();
        FlowControlledUpload<LhTransfer, LhReceipt> upload = upload(dest, acks);
        attempt.destinationTouched = true;
        // closed only after the commit (migrate's finally): a tracker's close unregisters every
        // tracked range, tens of milliseconds for 1 GiB, which must not count into the freeze
        TracerThread tracer = attempt.keep(new TracerThread("ferry-track-" + lh.id()));
        DirtyTracker tracker = attempt.keep(DirtyTrackers.open(tracker(), hostPid, tracer));
        PageRounds pages = attempt.keep(new PageRounds(hostPid, PROGRAM_PID));
        try {
            PrecopyRounds.Wire wire = new PrecopyRounds.Wire() {
                @Override
                public void send(LhTransfer message) {
                    MigrationSource.send(upload, message);
                }

                @Override
                public void awaitApplied(int round) throws IOException {
                    try {
                        acks.await(round, ROUND_TIMEOUT_MS, upload::ended);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    }
                }
            };
            PrecopyRounds rounds = new PrecopyRounds(pages, tracker, wire, policy, progress, status);
            rounds.send(LhTransfer.newBuilder().setPrecopyStart(PrecopyStart.newBuilder().setMeta(meta(lh))
                    .setProgramPid(PROGRAM_PID).setHost(hostFeatures.get())).build());
            tracker.start();
            rounds.run();
            VmFlagsSnapshot flags = VmFlagsSnapshot.take(hostPid);   // smaps walks page tables: not while frozen
            long written = pause(lh, attempt);
            PhaseTimer timer = new PhaseTimer();
            attempt.frozenAt = System.nanoTime();
            lh.launched().cgroup().freeze();
            attempt.frozenHere = true;
            timer.mark("freeze");
            DirtyPages last = tracker.collect();
            timer.mark("collect");
            LhImage state = new ProcessCapture(timer).captureState(lh.id(), lh.launched().cgroup(), AfterCapture.FREEZE, flags);
            pages.growsDownAsCaptured(state.getProcesses(0).getMappingsList());   // the layout the destination applies
            lh.awaitOutputDrained(5_000);
            timer.mark("drain output");
            rounds.send(LhTransfer.newBuilder().setFinal(PrecopyFinal.newBuilder().setHeader(header(lh, written)).setImage(state)).build());
            timer.mark("send state");
            rounds.finalRound(last, timer);
            progress.accept(status.setPhase("commit").setBytesSent(rounds.bytes()).build());
            LhReady ready = finish(upload, dest);
            timer.mark("destination ready");
            LOG.info(() -> "freeze of " + lh.id() + ": " + timer);
            List<Long> perRound = rounds.roundPages();
            return new Transfer(rounds.bytes(), ready, rounds.precopyRounds() - 1, perRound, tracker.name());
        } catch (Exception e) {
            upload.cancel(e);
            throw e instanceof FlowControlledUpload.Failed f ? transferFailed(f.getCause(), dest) : e;
        }
    }

    /** The tracker the start-up probe chose; if it has not said yet, this probe's answer. */
    private String tracker() {
        String name = trackerName.get();
        return DirtyTrackers.NAMES.contains(name) ? name : DirtyTrackers.probe();
    }

    /** A failed transfer call, named so that a user sees which host and why ("io exception" alone says nothing). */
    private static FerryException transferFailed(Throwable grpcError, HostSelector.Choice dest) {
        io.grpc.Status s = io.grpc.Status.fromThrowable(grpcError);
        if (s.getCode() == io.grpc.Status.Code.UNAVAILABLE && !StatusCodes.fromFerry(grpcError)) {
            return new FerryException(ErrorCode.UNAVAILABLE, "lost the connection to " + dest.host() + " during the transfer ("
                    + (s.getDescription() == null ? "unavailable" : s.getDescription()) + ")", grpcError);
        }
        return StatusCodes.fromGrpc(grpcError, "host " + dest.host());
    }

    /** The program frozen and captured into an image, which then goes over as files. */
    private Transfer stopAndCopy(HostedLh lh, HostSelector.Choice dest, Attempt attempt) throws Exception {
        long written = pause(lh, attempt);
        Files.createDirectories(workDir);
        attempt.dir = Files.createTempDirectory(workDir, lh.id() + "-");
        attempt.frozenAt = System.nanoTime();
        LhImage image = new ProcessCapture().captureTo(lh.id(), lh.launched().cgroup(), AfterCapture.FREEZE, attempt.dir, false);
        attempt.frozenHere = true;
        lh.awaitOutputDrained(5_000);
        attempt.destinationTouched = true;
        FlowControlledUpload<LhTransfer, LhReceipt> upload = upload(dest, r -> { });
        try {
            long bytes = send(upload, LhTransfer.newBuilder().setHeader(header(lh, written)).build());
            bytes += ImageFiles.send(attempt.dir, chunk -> send(upload, LhTransfer.newBuilder().setChunk(chunk).build()));
            return new Transfer(bytes, finish(upload, dest), 0, List.of(image.getProcesses(0).getPageCount()), "");
        } catch (RuntimeException e) {
            upload.cancel(e);
            throw transferFailed(e instanceof FlowControlledUpload.Failed f ? f.getCause() : e, dest);
        }
    }

    private long pause(HostedLh lh, Attempt attempt) throws InterruptedException {
        long written = lh.stdin().pause();
        attempt.stdinPaused = true;
        return written;
    }

    private CheckpointMeta meta(HostedLh lh) {
        return CheckpointMeta.newBuilder().setFormatVersion(1).setLhId(lh.id()).setOwner(lh.owner().caller())
                .setSpec(lh.spec()).setOriginHost(lh.owner().originHost()).setHost(cluster.selfHost()).build();
    }

    /** Stream offsets at the freeze: stdin written into the program, output received from it. */
    private TransferHeader header(HostedLh lh, long stdinWritten) {
        return TransferHeader.newBuilder().setMeta(meta(lh)).setStdoutBase(lh.stdout().end()).setStderrBase(lh.stderr().end())
                .setStdinWritten(stdinWritten).build();
    }

    private FlowControlledUpload<LhTransfer, LhReceipt> upload(HostSelector.Choice dest, Consumer<LhReceipt> receipts) {
        return new FlowControlledUpload<>(observer -> cluster.peers().async(dest.address())
                .withDeadlineAfter(TRANSFER_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS).receiveLh(observer),
                LhReceipt::hasReady, receipts);
    }

    private static long send(FlowControlledUpload<LhTransfer, LhReceipt> upload, LhTransfer message) {
        upload.send(message);
        return message.getSerializedSize();
    }

    private static LhReady finish(FlowControlledUpload<LhTransfer, LhReceipt> upload, HostSelector.Choice dest) throws FerryException {
        try {
            return upload.finish().getReady();
        } catch (FlowControlledUpload.Failed e) {
            throw transferFailed(e.getCause(), dest);
        }
    }

    private static long residentBytes(HostedLh lh) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(lh.launched().programHostPid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone: the move fails anyway
        }
        return 0;
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
                boolean expired = cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(true).build()).getExpired();
                lh.markInDoubt("");
                if (expired) {
                    resumeHere(lh);
                    LOG.warning(() -> "in-doubt move of " + lh.id() + " to " + dest.host() + " resolved: " + dest.host()
                            + " dropped its copy unrun, so " + lh.id() + " goes on here");
                    return;
                }
                leave(lh, dest);
                LOG.info(() -> "in-doubt move of " + lh.id() + " to " + dest.host() + " confirmed; the copy here is gone");
            } catch (RuntimeException e) {
                if (!lh.exit().isDone()) {
                    resolveLater(lh, dest);
                }
            }
        }, IN_DOUBT_RETRY_S, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** An in-doubt copy that the destination never ran: it thaws and goes on here. */
    private static void resumeHere(HostedLh lh) {
        try {
            lh.launched().cgroup().thaw();
        } catch (IOException e) {
            LOG.severe("could not thaw " + lh.id() + " after its destination dropped its copy: " + e.getMessage());
        }
        lh.stdin().resume();
    }

    /**
     * Sends GO until the destination confirms; without an answer the outcome is in doubt. A
     * destination that answers "expired" (its copy waited too long and was dropped unrun) makes
     * this a plain failure: the caller rolls back.
     */
    private void commit(HostedLh lh, HostSelector.Choice dest) throws InDoubt, FerryException {
        RuntimeException last = null;
        for (int i = 0; i < COMMIT_ATTEMPTS; i++) {
            try {
                boolean expired = cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(true).build()).getExpired();
                if (expired) {
                    throw FerryException.of(ErrorCode.UNAVAILABLE, "%s dropped its copy of %s before the commit arrived; %s goes on here",
                            dest.host(), lh.id(), lh.id());
                }
                return;
            } catch (RuntimeException e) {
                last = e;
                LOG.warning("commit of " + lh.id() + " to " + dest.host() + " unanswered (" + e.getMessage() + "), asking again");
            }
        }
        lh.markInDoubt(dest.host());
        resolveLater(lh, dest);
        String why = last == null ? "?" : io.grpc.Status.fromThrowable(last).getCode().name().toLowerCase();
        throw new InDoubt("moving " + lh.id() + " to " + dest.host() + " is in doubt: " + dest.host()
                + " did not confirm the commit (" + COMMIT_ATTEMPTS + " calls of " + COMMIT_TIMEOUT_MS / 1000 + " s, the last: "
                + why + "); the copy here stays frozen"
                + " (lhosts shows it in-doubt) and GO is resent every " + IN_DOUBT_RETRY_S + " s; when " + dest.host()
                + " confirms, the copy here is removed");
    }

    private static final class InDoubt extends Exception {
        InDoubt(String message) {
            super(message);
        }
    }

    /** Before GO: D destroys its copy (if any), the program goes on here. */
    private void rollBack(HostedLh lh, Attempt attempt, HostSelector.Choice dest) {
        if (attempt.destinationTouched) {
            try {
                cluster.peers().blocking(dest.address(), COMMIT_TIMEOUT_MS)
                        .commitLh(CommitLhRequest.newBuilder().setLhId(lh.id()).setGo(false).build());
            } catch (RuntimeException e) {
                LOG.warning("could not tell " + dest.host() + " to abort " + lh.id() + ": " + e.getMessage());
            }
        }
        if (attempt.frozenHere || attempt.frozenAt != 0) {
            try {
                lh.launched().cgroup().thaw();
            } catch (IOException e) {
                LOG.severe("could not thaw " + lh.id() + " after a failed migration: " + e.getMessage());
            }
        }
        if (attempt.stdinPaused) {
            lh.stdin().resume();
        }
        LOG.info(() -> "migration of " + lh.id() + " to " + dest.host() + " rolled back; it goes on here");
    }
}
