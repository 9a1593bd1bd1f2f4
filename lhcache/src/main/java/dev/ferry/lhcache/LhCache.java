package dev.ferry.lhcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.WhoHoldsLh;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * V's logical-host cache: LH id -> the binding (host, PM address, epoch) last learned.
 *
 * <p>There are no forwarding addresses: a host an LH left keeps no pointer to its new home.
 * A caller that finds the bound PM dead or "not here" {@linkplain #invalidate invalidates} the
 * entry and {@linkplain #resolve resolves} again, which asks the group "who holds LH X?". Bindings
 * also arrive unasked: each migration ends with an announcement, which {@link #onDatagram} learns.
 * Answers and announcements can cross in the network, so the epoch decides: an older binding never
 * replaces a newer one, whatever the order of arrival.
 */
public final class LhCache {
    /** Plenty for a workstation cluster; bounds memory if LH ids are never reused. */
    private static final long MAX_ENTRIES = 100_000;

    private final GroupChannel group;
    private final Duration perAttempt;
    private final int attempts;
    private final Cache<String, Binding> bindings = Caffeine.newBuilder().maximumSize(MAX_ENTRIES).build();
    private final SingleFlight<String, Optional<Binding>> queries = new SingleFlight<>();

    public LhCache(GroupChannel group, Duration perAttempt, int attempts) {
        this.group = Objects.requireNonNull(group, "group");
        GroupChannel.checkAskLimits(perAttempt, attempts);
        this.perAttempt = perAttempt;
        this.attempts = attempts;
    }

    /** Records {@code b} unless the cache already holds a newer epoch for the same LH. */
    public void learn(Binding b) {
        bindings.asMap().merge(b.lhId(), b, (current, offered) -> offered.supersedes(current) ? offered : current);
    }

    public Optional<Binding> cached(String lhId) {
        return Optional.ofNullable(bindings.getIfPresent(lhId));
    }

    /**
     * Forgets the binding of {@code lhId} if it still points at {@code deadAddress}; a binding that
     * meanwhile moved elsewhere (an announcement arrived) is kept.
     */
    public void invalidate(String lhId, String deadAddress) {
        bindings.asMap().computeIfPresent(lhId, (id, b) -> b.address().equals(deadAddress) ? null : b);
    }

    /**
     * The cached binding, or else the answer of the group to "who holds LH {@code lhId}?"
     * (empty if no PM answers within {@code attempts * perAttempt}).
     */
    public Optional<Binding> resolve(String lhId) {
        Optional<Binding> hit = cached(lhId);
        return hit.isPresent() ? hit : queries.run(lhId, () -> ask(lhId));
    }

    /** Multicasts "LH b is at host/address, epoch" (after a launch or migration) and learns it here. */
    public void announce(Binding b) {
        learn(b);
        group.multicast(Datagram.newBuilder().setLhAt(b.toLhAt()));
    }

    /** Learns the binding carried by an LhAt datagram (answer or announcement); ignores the rest. */
    public void onDatagram(Received r) {
        if (r.datagram().hasLhAt()) {
            learn(Binding.of(r.datagram().getLhAt()));
        }
    }

    private Optional<Binding> ask(String lhId) {
        Datagram.Builder query = Datagram.newBuilder().setWhoHoldsLh(WhoHoldsLh.newBuilder().setLhId(lhId));
        Optional<Received> answer = group.ask(query,
                d -> d.hasLhAt() && d.getLhAt().getLhId().equals(lhId), perAttempt, attempts);
        if (answer.isEmpty()) {
            return cached(lhId); // an announcement may have arrived while nobody answered
        }
        Binding answered = Binding.of(answer.get().datagram().getLhAt());
        learn(answered);
        // An announcement with a newer epoch may have raced the answer: report what the cache kept.
        return Optional.of(cached(lhId).orElse(answered));
    }
}
