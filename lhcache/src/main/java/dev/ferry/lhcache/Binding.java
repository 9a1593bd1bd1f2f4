package dev.ferry.lhcache;

import dev.ferry.proto.v1.LhAt;
import java.util.Objects;

/**
 * Where a logical host lives: its id, the host holding it, that host's PM gRPC address, and the
 * epoch, which grows with every move (an older binding never replaces a newer one).
 */
public record Binding(String lhId, String host, String address, long epoch) {
    public Binding {
        Objects.requireNonNull(lhId, "lhId");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(address, "address");
    }

    static Binding of(LhAt at) {
        return new Binding(at.getLhId(), at.getHost(), at.getAddress(), at.getEpoch());
    }

    LhAt toLhAt() {
        return LhAt.newBuilder().setLhId(lhId).setHost(host).setAddress(address).setEpoch(epoch).build();
    }

    /** Whether this binding may replace {@code current}: same or later epoch (uint64 on the wire). */
    boolean supersedes(Binding current) {
        return Long.compareUnsigned(epoch, current.epoch) >= 0;
    }
}
