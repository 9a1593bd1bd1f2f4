package dev.ferry.lhcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.WhoIsHost;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Host name -> PM gRPC address, learned from the group like {@link LhCache}: from HostIs answers
 * to "who is host NAME?" and, for free, from the signed sender fields of every datagram heard.
 * A PM restarted on a new port is found again by invalidating its dead address and resolving.
 */
public final class HostDirectory {
    private static final long MAX_ENTRIES = 10_000;

    private final GroupChannel group;
    private final Duration perAttempt;
    private final int attempts;
    private final Cache<String, String> addresses = Caffeine.newBuilder().maximumSize(MAX_ENTRIES).build();
    private final SingleFlight<String, Optional<String>> queries = new SingleFlight<>();

    public HostDirectory(GroupChannel group, Duration perAttempt, int attempts) {
        this.group = Objects.requireNonNull(group, "group");
        GroupChannel.checkAskLimits(perAttempt, attempts);
        this.perAttempt = perAttempt;
        this.attempts = attempts;
    }

    /** The cached address of {@code host}, or else the group's answer (empty if none in time). */
    public Optional<String> resolve(String host) {
        String hit = addresses.getIfPresent(host);
        return hit != null ? Optional.of(hit) : queries.run(host, () -> ask(host));
    }

    public void learn(String host, String address) {
        if (!host.isEmpty() && !address.isEmpty()) {
            addresses.put(host, address);
        }
    }

    /** Forgets {@code host} if it is still bound to {@code deadAddress}. */
    public void invalidate(String host, String deadAddress) {
        addresses.asMap().remove(host, deadAddress);
    }

    /** Learns from HostIs answers and from every datagram's sender fields. */
    public void onDatagram(Received r) {
        Datagram d = r.datagram();
        learn(d.getSenderHost(), d.getSenderAddress());
        if (d.hasHostIs()) {
            learn(d.getHostIs().getHost(), d.getHostIs().getAddress());
        }
    }

    private Optional<String> ask(String host) {
        Datagram.Builder query = Datagram.newBuilder().setWhoIsHost(WhoIsHost.newBuilder().setHost(host));
        Optional<Received> answer = group.ask(query,
                d -> d.hasHostIs() && d.getHostIs().getHost().equals(host), perAttempt, attempts);
        answer.ifPresent(r -> learn(host, r.datagram().getHostIs().getAddress()));
        return answer.map(r -> r.datagram().getHostIs().getAddress()).or(() -> Optional.ofNullable(addresses.getIfPresent(host)));
    }
}
