package dev.ferry.lhcache;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.lhcache.GroupFixture.Inbox;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.LhAt;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LhCacheTest {
    private final GroupFixture fx = new GroupFixture();
    private final Duration atMost = Duration.ofSeconds(5);

    LhCacheTest() throws Exception {}

    @AfterEach
    void cleanUp() throws Exception {
        fx.close();
    }

    /** A channel whose handler feeds its own LhCache, as the PM wires it. */
    private LhCache wiredCache(String host, Duration perAttempt, int attempts) throws Exception {
        AtomicReference<LhCache> cache = new AtomicReference<>();
        GroupChannel channel = fx.channel(host, r -> cache.get().onDatagram(r));
        cache.set(new LhCache(channel, perAttempt, attempts));
        return cache.get();
    }

    /** A PM holding {@code binding}: answers WhoHoldsLh for it after {@code delayMs}, also calls {@code onQuery}. */
    private Inbox holder(String host, Binding binding, long delayMs, Consumer<Received> onQuery) throws Exception {
        AtomicReference<GroupChannel> self = new AtomicReference<>();
        Inbox inbox = new Inbox(r -> {
            if (r.datagram().hasWhoHoldsLh() && r.datagram().getWhoHoldsLh().getLhId().equals(binding.lhId())) {
                onQuery.accept(r);
                fx.scheduler.schedule(() -> self.get().reply(r, Datagram.newBuilder().setLhAt(binding.toLhAt())),
                        delayMs, TimeUnit.MILLISECONDS);
            }
        });
        self.set(fx.channel(host, inbox));
        return inbox;
    }

    private static Received lhAt(Binding b) {
        return new Received(Datagram.newBuilder().setLhAt(b.toLhAt()).build(), new InetSocketAddress("127.0.0.1", 1));
    }

    @Test
    void aNewerEpochWinsInEitherOrderOfArrival() throws Exception {
        LhCache cache = wiredCache("asker", Duration.ofMillis(100), 1);
        Binding older = new Binding("lh1", "s", "s:7000", 4);
        Binding newer = new Binding("lh1", "d", "d:7000", 5);
        cache.onDatagram(lhAt(older));
        cache.onDatagram(lhAt(newer));
        assertEquals(newer, cache.cached("lh1").orElseThrow());
        cache.learn(older);
        assertEquals(newer, cache.cached("lh1").orElseThrow());
        cache.onDatagram(new Received(Datagram.newBuilder().setLhAt(LhAt.newBuilder().setLhId("lh2").setEpoch(1)).build(),
                new InetSocketAddress("127.0.0.1", 1)));
        assertEquals(1, cache.cached("lh2").orElseThrow().epoch());
        cache.onDatagram(new Received(GroupFixture.whoIs("x").build(), new InetSocketAddress("127.0.0.1", 1)));
        assertTrue(cache.cached("x").isEmpty());
    }

    @Test
    void invalidateOnlyForgetsAnEntryThatStillPointsAtTheDeadAddress() throws Exception {
        LhCache cache = wiredCache("asker", Duration.ofMillis(100), 1);
        cache.learn(new Binding("lh1", "d", "d:7000", 5));
        cache.invalidate("lh1", "s:7000");
        assertTrue(cache.cached("lh1").isPresent());
        cache.invalidate("lh1", "d:7000");
        assertTrue(cache.cached("lh1").isEmpty());
        cache.invalidate("never-seen", "d:7000");
    }

    @Test
    void aStaleEntryIsInvalidatedThenResolvedAgainByQuery() throws Exception {
        Binding moved = new Binding("lh1", "d", "d:7000", 2);
        Inbox holderInbox = holder("d", moved, 0, r -> {});
        LhCache cache = wiredCache("asker", Duration.ofMillis(500), 3);
        Binding stale = new Binding("lh1", "s", "s:7000", 1);
        cache.learn(stale);
        assertEquals(stale, cache.resolve("lh1").orElseThrow(), "a cache hit asks nobody");
        cache.invalidate("lh1", "s:7000"); // the caller found s:7000 dead
        assertEquals(moved, cache.resolve("lh1").orElseThrow());
        assertEquals(moved, cache.cached("lh1").orElseThrow());
        assertEquals(1, holderInbox.count(Datagram::hasWhoHoldsLh));
    }

    @Test
    void anAnnouncementArrivingBeforeAnOlderAnswerWins() throws Exception {
        // The old holder answers late (epoch 4) while the LH's new host announces epoch 5.
        AtomicReference<LhCache> announcer = new AtomicReference<>();
        Binding newer = new Binding("lh1", "d", "d:7000", 5);
        holder("s", new Binding("lh1", "s", "s:7000", 4), 600, r -> announcer.get().announce(newer));
        announcer.set(wiredCache("d", Duration.ofMillis(100), 1));
        LhCache cache = wiredCache("asker", Duration.ofSeconds(3), 1);
        assertEquals(newer, cache.resolve("lh1").orElseThrow());
        assertEquals(newer, cache.cached("lh1").orElseThrow());
    }

    @Test
    void anAnnouncementArrivingAfterAnOlderAnswerWins() throws Exception {
        holder("s", new Binding("lh1", "s", "s:7000", 4), 0, r -> {});
        LhCache announcer = wiredCache("d", Duration.ofMillis(100), 1);
        LhCache cache = wiredCache("asker", Duration.ofSeconds(3), 1);
        assertEquals(4, cache.resolve("lh1").orElseThrow().epoch());
        Binding newer = new Binding("lh1", "d", "d:7000", 5);
        announcer.announce(newer);
        assertEquals(newer, announcer.cached("lh1").orElseThrow(), "the announcer learns its own announcement");
        await().atMost(atMost).until(() -> cache.cached("lh1").orElseThrow().equals(newer));
    }

    @Test
    void anLhOnAVanishedHostResolvesToEmptyWithinTheDeadline() throws Exception {
        LhCache cache = wiredCache("asker", Duration.ofMillis(150), 2);
        long start = System.nanoTime();
        Optional<Binding> none = cache.resolve("lh-on-dead-host");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(none.isEmpty());
        assertTrue(elapsedMs < 900, "took " + elapsedMs + " ms");
    }

    @Test
    void concurrentMissesForOneLhAskTheGroupOnce() throws Exception {
        Binding at = new Binding("lh1", "d", "d:7000", 1);
        Inbox holderInbox = holder("d", at, 300, r -> {});
        LhCache cache = wiredCache("asker", Duration.ofSeconds(2), 1);
        List<CompletableFuture<Optional<Binding>>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            results.add(CompletableFuture.supplyAsync(() -> cache.resolve("lh1")));
        }
        for (CompletableFuture<Optional<Binding>> r : results) {
            assertEquals(at, r.get(5, TimeUnit.SECONDS).orElseThrow());
        }
        assertEquals(1, holderInbox.count(Datagram::hasWhoHoldsLh));
    }
}
