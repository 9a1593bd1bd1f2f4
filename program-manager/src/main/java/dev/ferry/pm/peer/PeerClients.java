package dev.ferry.pm.peer;

import dev.ferry.proto.v1.ProgramManagerGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One authenticated gRPC channel per peer address, made on first use and kept. */
public final class PeerClients implements AutoCloseable {
    public static final int MAX_MESSAGE = 16 << 20;
    private final PeerAuth auth;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /**
     * HTTP/2 window per stream: a migration streams 1 MiB page batches, and with the default
     * 1 MiB window each batch waits for the receiver's acknowledgement (measured: ~57 MB/s);
     * 16 MiB keeps the link busy while the destination writes pages.
     */
    public static final int FLOW_WINDOW = 16 << 20;

    /**
     * Keepalive, both ways (the server side is set in ProgramManager): a connection that has
     * read nothing for KEEPALIVE_TIME_S is pinged, and closed when the ping is not answered
     * within KEEPALIVE_TIMEOUT_S, failing its calls. So a broken link or a dead peer ends a
     * migration's transfer within about 15 s on both sides (the source rolls back, the
     * destination discards its half-built copy), not after TCP's retransmission timeout of many
     * minutes. A busy transfer reads window updates all the time and is never pinged. The
     * timeout is generous because a loaded peer may answer a ping late.
     */
    public static final long KEEPALIVE_TIME_S = 5;
    public static final long KEEPALIVE_TIMEOUT_S = 10;

    public PeerClients(PeerAuth auth) {
        this.auth = auth;
    }

    /**
     * The channel to {@code address}. One that failed to connect waits gRPC's back-off (up to
     * two minutes) before it tries again, failing every call meanwhile; a call means someone
     * wants the peer now, so it tries again at once (without this, a host whose link was down
     * for 25 s could not start a program on another host for more than 30 s after it came back).
     */
    private ManagedChannel channel(String address) {
        ManagedChannel channel = channels.computeIfAbsent(address, this::newChannel);
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
        }
        return channel;
    }

    private ManagedChannel newChannel(String address) {
        return NettyChannelBuilder.forTarget(address)
                .usePlaintext()
                .intercept(auth.clientInterceptor())
                .maxInboundMessageSize(MAX_MESSAGE)
                .flowControlWindow(FLOW_WINDOW)
                .keepAliveTime(KEEPALIVE_TIME_S, TimeUnit.SECONDS)
                .keepAliveTimeout(KEEPALIVE_TIMEOUT_S, TimeUnit.SECONDS)
                .build();
    }

    public ProgramManagerGrpc.ProgramManagerBlockingStub blocking(String address, long timeoutMillis) {
        return ProgramManagerGrpc.newBlockingStub(channel(address)).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    public ProgramManagerGrpc.ProgramManagerStub async(String address) {
        return ProgramManagerGrpc.newStub(channel(address));
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
