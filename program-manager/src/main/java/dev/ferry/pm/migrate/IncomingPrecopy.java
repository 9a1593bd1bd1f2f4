package dev.ferry.pm.migrate;

import dev.ferry.agent.LaunchException;
import dev.ferry.agent.LaunchedLh;
import dev.ferry.agent.LhLauncher;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.FileIdentities;
import dev.ferry.agent.rebuild.HostCompatibility;
import dev.ferry.agent.rebuild.PrecopyRebuild;
import dev.ferry.agent.rebuild.RebuildException;
import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PrecopyFinal;
import dev.ferry.proto.v1.PrecopyStart;
import dev.ferry.proto.v1.RoundStart;
import java.io.IOException;
import java.util.List;

/**
 * One LH arriving by pre-copy: its restore stub is created as soon as the source announces it,
 * filled round by round while the program still runs at the source, and finished (frozen) from
 * the final state. {@link #close} before {@link #finish} leaves nothing behind.
 */
final class IncomingPrecopy implements AutoCloseable {
    private final String lhId;
    private final LhLauncher.RestoreStub stub;
    private final PrecopyRebuild rebuild;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(IncomingPrecopy.class.getName());
    private final dev.ferry.agent.checkpoint.PhaseTimer timer = new dev.ferry.agent.checkpoint.PhaseTimer();
    private PrecopyFinal last;
    private boolean finished;

    IncomingPrecopy(LhLauncher launcher, PrecopyStart start) throws FerryException {
        this.lhId = start.getMeta().getLhId();
        try {
            String why = HostCompatibility.mismatch(start.getHost(), launcher.hostFeatures());
            if (why != null) {
                throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "cannot take %s here: %s", lhId, why);
            }
            stub = launcher.startStub(lhId, start.getProgramPid());
        } catch (IOException | LaunchException e) {
            throw new FerryException(ErrorCode.INTERNAL, "cannot prepare " + lhId + " here: " + e.getMessage(), e);
        }
        try {
            rebuild = PrecopyRebuild.begin(stub.hostPid(), lhId, start.getHost());
        } catch (RebuildException e) {
            stub.close();
            throw new FerryException(ErrorCode.INTERNAL, e.getMessage(), e);
        }
    }

    void round(RoundStart round) throws FerryException {
        try {
            rebuild.round(round.getRound(), round.getMappingsList());
        } catch (RebuildException e) {
            throw new FerryException(ErrorCode.INTERNAL, e.getMessage(), e);
        }
        FileIdentities.warm(round.getMappingsList());   // so the check at the freeze only compares
    }

    void pages(List<PageBatch> batches) throws FerryException {
        try {
            rebuild.pages(batches);
        } catch (RebuildException e) {
            throw new FerryException(ErrorCode.INTERNAL, e.getMessage(), e);
        }
    }

    /** The state at the freeze: checked against this host, and its layout made; the last pages follow. */
    void finalState(PrecopyFinal state, LhLauncher launcher) throws FerryException {
        if (last != null) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "a pre-copy has one final state");
        }
        last = state;
        timer.restart();
        try {
            launcher.verify(new CapturedLh(state.getImage(), List.of()));
            timer.mark("verify");
            rebuild.finalLayout(state.getImage());
            timer.mark("final layout");
        } catch (LaunchException | RebuildException e) {
            throw new FerryException(ErrorCode.FAILED_PRECONDITION, e.getMessage(), e);
        }
    }

    String lhId() {
        return lhId;
    }

    PrecopyFinal finalState() {
        return last;
    }

    /** Everything arrived: the process gets its kernel state and is left frozen. */
    LaunchedLh finish() throws FerryException {
        if (last == null) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "the pre-copy of %s ended before its final state", lhId);
        }
        timer.mark("last pages");
        try {
            LaunchedLh lh = stub.complete(last.getImage(), true, frozen -> rebuild.finish(last.getImage(), frozen));
            finished = true;
            timer.mark("kernel state, frozen");
            LOG.info(() -> "finishing " + lhId + ": " + timer);
            return lh;
        } catch (LaunchException e) {
            throw new FerryException(ErrorCode.INTERNAL, "could not rebuild " + lhId + " here: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        rebuild.close();
        if (!finished) {
            stub.close();
        }
    }
}
