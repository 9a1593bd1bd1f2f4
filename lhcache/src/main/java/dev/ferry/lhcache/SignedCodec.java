package dev.ferry.lhcache;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.SignedDatagram;
import java.nio.ByteBuffer;

/**
 * Wire form of group datagrams: {@code SignedDatagram{body = Datagram bytes, mac = key.mac(body)}},
 * at most {@link #MAX_BYTES}. Opening checks size, MAC and then the replay guard, in that order, so
 * unauthenticated bytes never reach the guard's memory.
 */
final class SignedCodec {
    /** Largest datagram sent or accepted: well under any MTU-reassembly trouble, big enough for every message. */
    static final int MAX_BYTES = 8192;

    private final ClusterKey key;
    private final ReplayGuard replayGuard;

    SignedCodec(ClusterKey key, ReplayGuard replayGuard) {
        this.key = key;
        this.replayGuard = replayGuard;
    }

    ByteBuffer seal(Datagram datagram) {
        byte[] body = datagram.toByteArray();
        byte[] wire = SignedDatagram.newBuilder()
                .setBody(ByteString.copyFrom(body))
                .setMac(ByteString.copyFrom(key.mac(body)))
                .build()
                .toByteArray();
        if (wire.length > MAX_BYTES) {
            throw new IllegalArgumentException(String.format(
                    "datagram of %d bytes exceeds the group's limit of %d", wire.length, MAX_BYTES));
        }
        return ByteBuffer.wrap(wire);
    }

    /** The result of opening one received datagram: the datagram, or why it was refused. */
    record Opened(Datagram datagram, String refusal) {
        static Opened refused(String why) {
            return new Opened(null, why);
        }
    }

    /** Opens {@code wire} (position..limit); a buffer holding more than {@link #MAX_BYTES} was truncated. */
    Opened open(ByteBuffer wire) {
        if (wire.remaining() > MAX_BYTES) {
            return Opened.refused("larger than " + MAX_BYTES + " bytes");
        }
        Datagram datagram;
        try {
            SignedDatagram signed = SignedDatagram.parseFrom(wire);
            byte[] body = signed.getBody().toByteArray();
            if (!key.verify(signed.getMac().toByteArray(), body)) {
                return Opened.refused("bad MAC (forged, corrupted or signed with another cluster key)");
            }
            datagram = Datagram.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            return Opened.refused("malformed: " + e.getMessage());
        }
        if (!replayGuard.accept(datagram.getSenderHost(), datagram.getNonce(), datagram.getSentMs())) {
            return Opened.refused(String.format("replayed or stale (sender %s, nonce %x, sent_ms %d)",
                    datagram.getSenderHost(), datagram.getNonce(), datagram.getSentMs()));
        }
        return new Opened(datagram, null);
    }
}
