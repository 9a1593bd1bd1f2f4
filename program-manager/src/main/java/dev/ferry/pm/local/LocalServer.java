package dev.ferry.pm.local;

import dev.ferry.agent.Credentials;
import dev.ferry.agent.Users;
import dev.ferry.pm.Cluster;
import dev.ferry.pm.FerryException;
import dev.ferry.pm.LhIds;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.ServerFrame;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The Unix socket local users' commands talk to. The caller is who the kernel says it is
 * (SO_PEERCRED), never what a message claims; that identity goes with every request this
 * manager makes for it.
 */
public final class LocalServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalServer.class.getName());

    private final Path socketPath;
    private final Cluster cluster;
    private final ClusterView view;
    private final ExecutorService pool;
    private ServerSocketChannel server;

    public LocalServer(Path socketPath, Cluster cluster, ExecutorService pool) {
        this.socketPath = socketPath;
        this.cluster = cluster;
        this.view = new ClusterView(cluster, pool);
        this.pool = pool;
    }

    public void start() throws IOException {
        Files.createDirectories(socketPath.toAbsolutePath().getParent());
        Files.deleteIfExists(socketPath);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        // Everyone on the host may talk to its manager; what they may do is checked per request.
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-rw-rw-"));
        Thread t = new Thread(this::acceptLoop, "local-accept");
        t.setDaemon(true);
        t.start();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                pool.execute(() -> serve(ch));
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.log(Level.WARNING, "accept failed", e);
                }
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            LocalFrames frames = new LocalFrames(ChannelStreams.in(ch), ChannelStreams.out(ch));
            try {
                Caller caller = caller(ch);
                LocalRequest req = frames.read(LocalRequest.parser());
                if (req == null) {
                    return;
                }
                switch (req.getKindCase()) {
                    case RUN -> new RunRelay(caller, req.getRun(), frames, cluster).run(LhIds.next());
                    case LIST -> frames.write(view.list(caller));
                    case CONTROL -> frames.write(view.control(caller, req.getControl()));
                    case HOSTS -> frames.write(view.hosts());
                    case CHECKPOINT -> frames.write(view.checkpoint(caller, req.getCheckpoint()));
                    case MIGRATE -> frames.write(view.migrate(caller, req.getMigrate(), p -> progress(frames, p)));
                    default -> throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "empty request");
                }
            } catch (FerryException e) {
                LOG.info(() -> "local request refused: " + e.getMessage());
                frames.write(ServerFrame.newBuilder().setError(e.toProto()).build());
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "local connection ended", e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "local request failed", e);
        }
    }

    /** A progress frame for migrateprog; a client that went away does not stop the migration. */
    private static void progress(LocalFrames frames, dev.ferry.proto.v1.MigrateProgress p) {
        try {
            frames.write(dev.ferry.proto.v1.MigrateReply.newBuilder().setProgress(p).build());
        } catch (IOException e) {
            LOG.log(Level.FINE, "migrateprog left during the move", e);
        }
    }

    private Caller caller(SocketChannel ch) throws IOException, FerryException {
        UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        Credentials c;
        try {
            c = Users.byName(p.user().getName());
        } catch (RuntimeException e) {
            throw FerryException.of(ErrorCode.PERMISSION_DENIED, "cannot identify local user %s", p.user().getName());
        }
        int gid = groupId(p.group().getName(), c.gid());
        Caller.Builder b = Caller.newBuilder().setUid(c.uid()).setGid(gid).setUser(c.user()).setHost(cluster.selfHost());
        for (int g : c.groups()) {
            b.addGroups(g);
        }
        return b.build();
    }

    private static int groupId(String name, int fallback) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return dev.ferry.agent.Users.groupId(name).orElse(fallback);
        }
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
        }
        Files.deleteIfExists(socketPath);
    }
}
