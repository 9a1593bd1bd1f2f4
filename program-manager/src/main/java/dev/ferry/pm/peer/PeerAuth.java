package dev.ferry.pm.peer;

import dev.ferry.lhcache.ClusterKey;
import dev.ferry.lhcache.ReplayGuard;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Authenticates every call between program managers with the cluster key: the caller sends
 * {@code ferry-auth: SENTMS.NONCE.MAC} where MAC = HMAC(key, method, sent time, nonce); the
 * callee checks the MAC, the time window and that the nonce is new (replay protection).
 * A refused call is logged and answered UNAUTHENTICATED; the manager goes on serving.
 */
public final class PeerAuth {
    private static final Logger LOG = Logger.getLogger(PeerAuth.class.getName());
    static final Metadata.Key<String> HEADER = Metadata.Key.of("ferry-auth", Metadata.ASCII_STRING_MARSHALLER);
    private static final HexFormat HEX = HexFormat.of();

    private final ClusterKey key;
    private final ReplayGuard replay;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();

    public PeerAuth(ClusterKey key, ReplayGuard replay, LongSupplier clockMillis) {
        this.key = key;
        this.replay = replay;
        this.clock = clockMillis;
    }

    String token(String method) {
        long sent = clock.getAsLong();
        long nonce = random.nextLong();
        return sent + "." + Long.toHexString(nonce) + "." + HEX.formatHex(mac(method, sent, nonce));
    }

    private byte[] mac(String method, long sent, long nonce) {
        return key.mac(method.getBytes(StandardCharsets.UTF_8),
                ByteBuffer.allocate(8).putLong(sent).array(), ByteBuffer.allocate(8).putLong(nonce).array());
    }

    /** Empty when the token is good, else why not. */
    String check(String method, String token) {
        if (token == null) {
            return "no cluster-key authentication";
        }
        String[] parts = token.split("\\.");
        if (parts.length != 3) {
            return "malformed authentication";
        }
        try {
            long sent = Long.parseLong(parts[0]);
            long nonce = Long.parseUnsignedLong(parts[1], 16);
            if (!key.verify(HEX.parseHex(parts[2]), method.getBytes(StandardCharsets.UTF_8),
                    ByteBuffer.allocate(8).putLong(sent).array(), ByteBuffer.allocate(8).putLong(nonce).array())) {
                return "wrong cluster key";
            }
            if (!replay.accept("grpc", nonce, sent)) {
                return "replayed or stale authentication";
            }
            return "";
        } catch (IllegalArgumentException e) {
            return "malformed authentication";
        }
    }

    public ClientInterceptor clientInterceptor() {
        return new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                        headers.put(HEADER, token(method.getFullMethodName()));
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    public ServerInterceptor serverInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                String why = check(call.getMethodDescriptor().getFullMethodName(), headers.get(HEADER));
                if (!why.isEmpty()) {
                    LOG.warning(() -> "refused " + call.getMethodDescriptor().getFullMethodName() + " from "
                            + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR) + ": " + why);
                    call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
                    return new ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
    }
}
