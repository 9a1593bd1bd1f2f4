package dev.ferry.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;

/** Where the local program manager listens, and how a command connects to it. */
public final class ManagerSocket {
    public static final String DEFAULT_PATH = "/run/ferry/pm.sock";
    public static final String ENV_VARIABLE = "FERRY_SOCKET";

    private ManagerSocket() {
    }

    /** FERRY_SOCKET when set and not empty, else the default path. */
    public static Path path(Map<String, String> environment) {
        String configured = environment.get(ENV_VARIABLE);
        return Path.of(configured == null || configured.isEmpty() ? DEFAULT_PATH : configured);
    }

    /** Connects; the manager learns who we are from the socket's peer credentials. */
    public static FrameChannel connect(Path socket) throws UnreachableException {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            return new FrameChannel(channel);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
            throw new UnreachableException(socket, e);
        }
    }

    /** The manager's socket is missing or refuses connections. */
    public static final class UnreachableException extends Exception {
        UnreachableException(Path socket, Exception cause) {
            super("cannot reach the program manager at " + socket
                    + " (is it running? start it with bin/program-manager or set FERRY_SOCKET)", cause);
        }
    }
}
