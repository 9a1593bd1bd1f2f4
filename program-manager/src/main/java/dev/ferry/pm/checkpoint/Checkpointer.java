package dev.ferry.pm.checkpoint;

import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.CaptureException;
import dev.ferry.agent.checkpoint.CaptureRefusedException;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.ErrorCode;
import java.io.IOException;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * `migrateprog --checkpoint`: writes a hosted LH's image (kernel agent's process image plus
 * {@code lh.meta}) into a directory, then ends the LH — its attached `run` gets all output
 * written before the checkpoint, then "LHID checkpointed to DIR" — or leaves it running.
 */
public final class Checkpointer {
    private static final Logger LOG = Logger.getLogger(Checkpointer.class.getName());

    private final String hostName;
    private final LongSupplier clock;

    public Checkpointer(String hostName, LongSupplier clockMillis) {
        this.hostName = hostName;
        this.clock = clockMillis;
    }

    public CheckpointResult checkpoint(HostedLh lh, Caller caller, String dirName, boolean leaveRunning) throws FerryException {
        if (lh.exit().isDone()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s has exited", lh.id());
        }
        if (lh.userStopped()) {
            throw FerryException.of(ErrorCode.FAILED_PRECONDITION, "logical host %s is stopped; resume it (lhosts cont %s) first", lh.id(), lh.id());
        }
        CheckpointDir dir = CheckpointDir.forWriting(dirName, caller);
        long start = System.nanoTime();
        if (!leaveRunning) {
            // Decided before the kill, so the exit the attached run sees says why the program ended.
            lh.markCheckpointed(dir.path().toString());
        }
        // Pages stream into the directory while the program is stopped; it is killed (or let go)
        // only once the image is complete, so a failed write leaves it running, unharmed.
        try {
            new ProcessCapture().captureTo(lh.id(), lh.launched().cgroup(),
                    leaveRunning ? AfterCapture.LEAVE_RUNNING : AfterCapture.KILL, dir.path(), false);
        } catch (CaptureRefusedException e) {
            lh.markCheckpointed("");
            dir.discard();
            throw new FerryException(ErrorCode.FAILED_PRECONDITION, String.join("; ", e.blockers()), e);
        } catch (CaptureException e) {
            lh.markCheckpointed("");
            dir.discard();
            throw new FerryException(ErrorCode.INTERNAL, "checkpoint of " + lh.id() + " failed, it goes on running: " + e.getMessage(), e);
        }
        double freezeMs = (System.nanoTime() - start) / 1e6;
        long bytes;
        try {
            bytes = dir.pageBytes();
            dir.writeMeta(CheckpointMeta.newBuilder()
                    .setFormatVersion(CheckpointDir.META_VERSION)
                    .setLhId(lh.id())
                    .setOwner(lh.owner().caller())
                    .setSpec(lh.spec())
                    .setOriginHost(lh.owner().originHost())
                    .setHost(hostName)
                    .setLeftRunning(leaveRunning)
                    .setCheckpointedMs(clock.getAsLong())
                    .build());
            dir.giveAllTo(lh.owner().caller());
        } catch (IOException e) {
            // The program is gone (or went on, with --leave-running) and its image is complete but
            // for lh.meta: keep the files for inspection; without lh.meta no restart takes them.
            throw new FerryException(ErrorCode.INTERNAL, "writing the image of " + lh.id() + " into " + dir.path() + " failed: " + e.getMessage(), e);
        }
        double totalMs = (System.nanoTime() - start) / 1e6;
        LOG.info(() -> String.format("checkpointed LH %s to %s (%d bytes, %.1f ms stopped, %.1f ms total)%s",
                lh.id(), dir.path(), bytes, freezeMs, totalMs, leaveRunning ? ", left running" : ""));
        return CheckpointResult.newBuilder()
                .setLhId(lh.id())
                .setProgram(lh.program())
                .setHost(hostName)
                .setDir(dir.path().toString())
                .setBytes(bytes)
                .setFreezeMs(freezeMs)
                .setTotalMs(totalMs)
                .setLeftRunning(leaveRunning)
                .build();
    }
}
