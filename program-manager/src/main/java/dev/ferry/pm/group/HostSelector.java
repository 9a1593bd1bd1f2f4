package dev.ferry.pm.group;

import dev.ferry.lhcache.GroupChannel;
import dev.ferry.lhcache.Received;
import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.WhoTakesGuest;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/** Picks a host for `@ *`: multicast "who takes a guest of M bytes?", the first answer wins. */
public final class HostSelector {
    public record Choice(String host, String address) {}

    private final GroupChannel group;
    private final Duration perAttempt;
    private final int attempts;

    public HostSelector(GroupChannel group, Duration perAttempt, int attempts) {
        this.group = group;
        this.perAttempt = perAttempt;
        this.attempts = attempts;
    }

    public Choice select(long memBytes, Collection<String> excludeHosts) throws FerryException {
        Datagram.Builder q = Datagram.newBuilder().setWhoTakesGuest(
                WhoTakesGuest.newBuilder().setMemBytes(memBytes).addAllExcludeHosts(excludeHosts));
        Optional<Received> first = group.ask(q, d -> d.hasWillTake(), perAttempt, attempts);
        if (first.isEmpty()) {
            throw FerryException.of(ErrorCode.UNAVAILABLE,
                    "no host volunteered within %d ms; try again later, or name a host with @ HOST (see lhosts --hosts)",
                    perAttempt.toMillis() * attempts);
        }
        var w = first.get().datagram().getWillTake();
        return new Choice(w.getHost(), w.getAddress());
    }
}
