package dev.ferry.pm.group;

import dev.ferry.lhcache.Binding;
import dev.ferry.lhcache.GroupChannel;
import dev.ferry.lhcache.HostDirectory;
import dev.ferry.lhcache.LhCache;
import dev.ferry.lhcache.Received;
import dev.ferry.pm.HostState;
import dev.ferry.pm.PmConfig;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.HostIs;
import dev.ferry.proto.v1.LhAt;
import dev.ferry.proto.v1.WillTake;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * This manager's answers in the program-manager group: "which manager is host NAME?",
 * "who will take a guest of M bytes?" (only when willing, after a delay proportional to load),
 * and "who holds LH X?". Every datagram is also shown to the caches, which learn from it.
 */
public final class GroupResponder {
    private static final Logger LOG = Logger.getLogger(GroupResponder.class.getName());
    /** "who is host *" asks every manager to answer: how lhosts finds the whole cluster. */
    public static final String ANY_HOST = "*";

    private final PmConfig config;
    private final GroupChannel group;
    private final HostState state;
    private final LhRegistry registry;
    private final LhCache lhCache;
    private final HostDirectory hosts;
    private final ScheduledExecutorService timer;

    public GroupResponder(PmConfig config, GroupChannel group, HostState state, LhRegistry registry,
                          LhCache lhCache, HostDirectory hosts, ScheduledExecutorService timer) {
        this.config = config;
        this.group = group;
        this.state = state;
        this.registry = registry;
        this.lhCache = lhCache;
        this.hosts = hosts;
        this.timer = timer;
    }

    public void onDatagram(Received r) {
        Datagram d = r.datagram();
        lhCache.onDatagram(r);
        hosts.onDatagram(r);
        if (!d.getSenderHost().isEmpty() && !d.getSenderAddress().isEmpty()) {
            hosts.learn(d.getSenderHost(), d.getSenderAddress());
        }
        switch (d.getKindCase()) {
            case WHO_IS_HOST -> {
                String name = d.getWhoIsHost().getHost();
                if (name.equals(config.hostName()) || name.equals(ANY_HOST)) {
                    group.reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder()
                            .setHost(config.hostName()).setAddress(config.grpcAddress())));
                }
            }
            case WHO_TAKES_GUEST -> answerGuestQuery(r);
            case WHO_HOLDS_LH -> {
                String id = d.getWhoHoldsLh().getLhId();
                registry.get(id).filter(lh -> !lh.exit().isDone()).ifPresent(lh ->
                        group.reply(r, Datagram.newBuilder().setLhAt(LhAt.newBuilder()
                                .setLhId(id).setHost(config.hostName()).setAddress(config.grpcAddress()))));
            }
            case LH_AT -> {
                // The LH lives elsewhere now (restarted or moved): an exited record here is stale.
                if (!d.getLhAt().getHost().equals(config.hostName())) {
                    registry.forgetExited(d.getLhAt().getLhId());
                }
            }
            default -> { }
        }
    }

    private void answerGuestQuery(Received r) {
        var q = r.datagram().getWhoTakesGuest();
        if (q.getExcludeHostsList().contains(config.hostName())) {
            return;
        }
        String why = state.whyUnwilling(q.getMemBytes());
        if (!why.isEmpty()) {
            LOG.fine(() -> "not volunteering for " + r.datagram().getSenderHost() + ": " + why);
            return;
        }
        double load = state.load();
        long delayMicros = (long) (1000 * Math.min(config.maxAnswerDelayMs(), load * config.answerDelayMsPerLoad()));
        Runnable answer = () -> group.reply(r, Datagram.newBuilder().setWillTake(WillTake.newBuilder()
                .setHost(config.hostName()).setAddress(config.grpcAddress()).setLoad(load)));
        if (delayMicros <= 0) {
            answer.run();
        } else {
            timer.schedule(answer, delayMicros, TimeUnit.MICROSECONDS);
        }
    }

    /** Used by the binding code: tells the group where an LH is now. */
    public void announce(String lhId, long epoch) {
        lhCache.announce(new Binding(lhId, config.hostName(), config.grpcAddress(), epoch));
    }
}
