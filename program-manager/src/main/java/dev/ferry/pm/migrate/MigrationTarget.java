package dev.ferry.pm.migrate;

import dev.ferry.agent.LaunchedLh;
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
import java.util.List;
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

    /**
     * One transfer: a stop-and-copy header then file chunks, or a pre-copy start then rounds,
     * the final state and the last pages (see LhTransfer in peer.proto).
     */
    public final class Transfer {
        private TransferHeader header;
        private Path dir;
        private IncomingPrecopy precopy;

        public void accept(LhTransfer msg) throws FerryException {
            try {
                switch (msg.getKindCase()) {
                    case HEADER -> {
                        expectFirst();
                        header = msg.getHeader();
                        Files.createDirectories(workDir);
                        dir = Files.createTempDirectory(workDir, checkedId(header.getMeta().getLhId()) + "-");
                    }
                    case CHUNK -> {
                        if (dir == null) {
                            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "a transfer starts with its header");
                        }
                        ImageFiles.write(dir, msg.getChunk());
                    }
                    case PRECOPY_START -> {
                        expectFirst();
                        checkedId(msg.getPrecopyStart().getMeta().getLhId());
                        precopy = new IncomingPrecopy(registry.launcher(), msg.getPrecopyStart());
                    }
                    case ROUND_START -> precopy().round(msg.getRoundStart());
                    case PAGES -> precopy().pages(List.of(msg.getPages()));
                    case PAGE_BATCHES -> precopy().pages(msg.getPageBatches().getBatchesList());
                    case ROUND_END -> precopy();   // applied in order: the reply says so
                    case FINAL -> {
                        precopy().finalState(msg.getFinal(), registry.launcher());
                        header = msg.getFinal().getHeader();
                    }
                    default -> throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "empty transfer message");
                }
            } catch (IOException e) {
                discard();
                throw new FerryException(ErrorCode.INTERNAL, "receiving an LH on " + hostName + ": " + e.getMessage(), e);
            } catch (FerryException | RuntimeException e) {
                discard();
                throw e;
            }
        }

        private void expectFirst() throws FerryException {
            if (header != null || precopy != null || dir != null) {
                throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "a transfer has one header");
            }
        }

        private IncomingPrecopy precopy() throws FerryException {
            if (precopy == null) {
                throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "pre-copy messages before the pre-copy start");
            }
            return precopy;
        }

        /** All of the image arrived: rebuild it (or finish the pre-copied process), frozen. */
        public LhReady finish() throws FerryException {
            if (header == null) {
                discard();
                throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "the transfer ended before its state");
            }
            CheckpointMeta meta = header.getMeta();
            try {
                boolean guest = !meta.getOriginHost().equals(hostName);
                LhOwner owner = new LhOwner(meta.getOwner(), meta.getOriginHost(), guest);
                HostedLh.StreamOffsets offsets = new HostedLh.StreamOffsets(header.getStdoutBase(), header.getStderrBase(),
                        header.getStdinWritten());
                HostedLh lh = precopy != null
                        ? adopt(meta, owner, offsets)
                        : registry.receive(meta.getLhId(), meta.getSpec(), owner, dir, offsets);
                frozen.put(lh.id(), lh);
                LOG.info(() -> "LH " + lh.id() + " rebuilt here, frozen until its source commits");
                return LhReady.newBuilder().setLhId(lh.id()).setHostPid(lh.launched().programHostPid()).build();
            } finally {
                discard();
            }
        }

        private HostedLh adopt(CheckpointMeta meta, LhOwner owner, HostedLh.StreamOffsets offsets) throws FerryException {
            LaunchedLh launched = precopy.finish();
            try {
                return registry.adopt(meta.getLhId(), meta.getSpec(), owner, launched, offsets);
            } catch (FerryException | RuntimeException e) {
                launched.cgroup().killAll();
                throw e;
            }
        }

        /**
         * The stream broke off before the end (source gone, cancelled, or its deadline passed):
         * the half-built copy is destroyed at once. Keepalive pings on the connection bound how
         * long a dead source can keep a stub here (see PeerClients).
         */
        public void abandon(String why) {
            String id = precopy != null ? precopy.lhId() : header != null ? header.getMeta().getLhId() : null;
            discard();
            if (id != null) {
                LOG.info(() -> "transfer of LH " + id + " broke off (" + why + "); what arrived of it is discarded");
            }
        }

        public void discard() {
            if (dir != null) {
                ImageFiles.deleteQuietly(dir);
                dir = null;
            }
            if (precopy != null) {
                precopy.close();
                precopy = null;
            }
        }
    }

    private static String checkedId(String id) throws FerryException {
        if (!id.matches("[a-z0-9]{1,32}")) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "bad logical host id '%s'", id);
        }
        return id;
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
