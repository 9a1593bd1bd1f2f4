package dev.ferry.pm.migrate;

import dev.ferry.pm.FerryException;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.lh.LhOwner;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LhReady;
import dev.ferry.proto.v1.LhTransfer;
import dev.ferry.proto.v1.TransferHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The destination side of a migration: receives an LH's image over the network, rebuilds it
 * frozen, and runs it only when the source commits (or destroys it when the source aborts).
 *
 * <pre>
 *   ReceiveLh stream ──► image written to a private directory ──► rebuilt, FROZEN ──► READY
 *   CommitLh(go)     ──► thaw, announce "LH at this host"        (idempotent)
 *   CommitLh(abort)  ──► kill the frozen copy                     (idempotent)
 * </pre>
 * Until the commit the source's copy is frozen too: at no moment do two copies run.
 */
public final class MigrationTarget {
    private static final Logger LOG = Logger.getLogger(MigrationTarget.class.getName());

    private final String hostName;
    private final Path workDir;
    private final LhRegistry registry;
    private final Consumer<String> announcer;
    private final Map<String, HostedLh> frozen = new ConcurrentHashMap<>();

    public MigrationTarget(String hostName, Path stateDir, LhRegistry registry, Consumer<String> announcer) {
        this.hostName = hostName;
        this.workDir = stateDir.resolve("incoming");
        this.registry = registry;
        this.announcer = announcer;
    }

    /** One transfer: header first, then file chunks. */
    public final class Transfer {
        private TransferHeader header;
        private Path dir;

        public void accept(LhTransfer msg) throws FerryException {
            try {
                if (msg.hasHeader()) {
                    if (header != null) {
                        throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "a transfer has one header");
                    }
                    header = msg.getHeader();
                    String id = header.getMeta().getLhId();
                    if (!id.matches("[a-z0-9]{1,32}")) {
                        throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "bad logical host id '%s'", id);
                    }
                    Files.createDirectories(workDir);
                    dir = Files.createTempDirectory(workDir, id + "-");
                } else if (header == null) {
                    throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "a transfer starts with its header");
                } else {
                    ImageFiles.write(dir, msg.getChunk());
                }
            } catch (IOException e) {
                discard();
                throw new FerryException(ErrorCode.INTERNAL, "receiving an LH on " + hostName + ": " + e.getMessage(), e);
            }
        }

        /** All of the image arrived: rebuild it, frozen. */
        public LhReady finish() throws FerryException {
            if (header == null) {
                throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "empty transfer");
            }
            CheckpointMeta meta = header.getMeta();
            try {
                boolean guest = !meta.getOriginHost().equals(hostName);
                HostedLh lh = registry.receive(meta.getLhId(), meta.getSpec(), new LhOwner(meta.getOwner(), meta.getOriginHost(), guest),
                        dir, new HostedLh.StreamOffsets(header.getStdoutBase(), header.getStderrBase(), header.getStdinWritten()));
                frozen.put(lh.id(), lh);
                LOG.info(() -> "LH " + lh.id() + " rebuilt here, frozen until its source commits");
                return LhReady.newBuilder().setLhId(lh.id()).setHostPid(lh.launched().programHostPid()).build();
            } finally {
                discard();
            }
        }

        public void discard() {
            if (dir != null) {
                ImageFiles.deleteQuietly(dir);
                dir = null;
            }
        }
    }

    public Transfer newTransfer() {
        return new Transfer();
    }

    /** The source's decision. Repeating it is harmless (the source asks again when unsure). */
    public void commit(String lhId, boolean go) throws FerryException {
        HostedLh lh = frozen.remove(lhId);
        if (lh == null) {
            HostedLh running = registry.get(lhId).orElse(null);
            if (go && running != null && !running.launched().cgroup().frozen()) {
                return; // committed already
            }
            if (!go) {
                return; // nothing (left) to abort
            }
            throw FerryException.of(ErrorCode.NOT_FOUND, "no logical host %s waiting here for its commit", lhId);
        }
        if (go) {
            try {
                lh.launched().cgroup().thaw();
            } catch (IOException e) {
                throw new FerryException(ErrorCode.INTERNAL, "could not resume " + lhId + ": " + e.getMessage(), e);
            }
            announcer.accept(lhId);
            LOG.info(() -> "LH " + lhId + " runs here now");
        } else {
            lh.kill();
            registry.forget(lh);
            LOG.info(() -> "LH " + lhId + " migration aborted by its source; frozen copy destroyed");
        }
    }
}
