package dev.ferry.lhcache;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.lhcache.GroupFixture.Inbox;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.HostIs;
import dev.ferry.proto.v1.SignedDatagram;
import dev.ferry.proto.v1.WhoTakesGuest;
import dev.ferry.proto.v1.WillTake;
import java.net.DatagramPacket;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupChannelTest {
    private final GroupFixture fx = new GroupFixture();
    private final Duration atMost = Duration.ofSeconds(5);

    GroupChannelTest() throws Exception {}

    @AfterEach
    void cleanUp() throws Exception {
        fx.close();
    }

    /** A PM-like handler: answers WhoTakesGuest with WillTake after {@code delayMs}. */
    private Inbox willTakeAfter(String host, long delayMs, AtomicReference<GroupChannel> self) {
        return new Inbox(r -> {
            if (r.datagram().hasWhoTakesGuest()) {
                fx.scheduler.schedule(() -> self.get().reply(r, Datagram.newBuilder()
                        .setWillTake(WillTake.newBuilder().setHost(host).setAddress(host + ":7000"))), delayMs, TimeUnit.MILLISECONDS);
            }
        });
    }

    private String firstTaker(long fastDelayB, long delayC) throws Exception {
        AtomicReference<GroupChannel> b = new AtomicReference<>();
        AtomicReference<GroupChannel> c = new AtomicReference<>();
        Inbox askerInbox = new Inbox();
        GroupChannel asker = fx.channel("asker", askerInbox);
        b.set(fx.channel("b", willTakeAfter("b", fastDelayB, b)));
        c.set(fx.channel("c", willTakeAfter("c", delayC, c)));
        Optional<Received> first = asker.ask(Datagram.newBuilder().setWhoTakesGuest(WhoTakesGuest.newBuilder().setMemBytes(1 << 20)),
                Datagram::hasWillTake, Duration.ofSeconds(3), 1);
        assertTrue(first.isPresent());
        // The slower answer still arrives (to the handler), but the ask had already returned.
        await().atMost(atMost).until(() -> askerInbox.count(Datagram::hasWillTake) == 2);
        return first.get().datagram().getWillTake().getHost();
    }

    @Test
    void theFirstAnswerWinsWhicheverHostGivesIt() throws Exception {
        assertEquals("b", firstTaker(0, 700));
    }

    @Test
    void theFirstAnswerWinsWhenTheOtherHostIsFaster() throws Exception {
        assertEquals("c", firstTaker(700, 0));
    }

    @Test
    void retriesUseTheSameQueryIdWithAFreshNonce() throws Exception {
        ConcurrentLinkedQueue<Datagram> queries = new ConcurrentLinkedQueue<>();
        AtomicReference<GroupChannel> b = new AtomicReference<>();
        b.set(fx.channel("b", r -> {
            if (r.datagram().hasWhoIsHost() && !r.datagram().getSenderHost().equals("b")) {
                queries.add(r.datagram());
                if (queries.size() == 2) { // lose the first query, answer the retry
                    b.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost("b").setAddress("b:7000")));
                }
            }
        }));
        GroupChannel asker = fx.channel("asker", r -> {});
        Optional<Received> answer = asker.ask(GroupFixture.whoIs("b"), Datagram::hasHostIs, Duration.ofMillis(400), 4);
        assertEquals("b:7000", answer.orElseThrow().datagram().getHostIs().getAddress());
        List<Datagram> seen = new ArrayList<>(queries);
        assertEquals(2, seen.size());
        assertEquals(seen.get(0).getQueryId(), seen.get(1).getQueryId());
        assertNotEquals(seen.get(0).getNonce(), seen.get(1).getNonce());
        assertEquals(seen.get(0).getQueryId(), answer.get().datagram().getQueryId());
    }

    @Test
    void noAnswerMeansEmptyAfterAllAttemptsAndNoLater() throws Exception {
        ConcurrentLinkedQueue<Datagram> queries = new ConcurrentLinkedQueue<>();
        fx.channel("silent", r -> queries.add(r.datagram()));
        GroupChannel asker = fx.channel("asker", r -> {});
        long start = System.nanoTime();
        Optional<Received> answer = asker.ask(GroupFixture.whoIs("ghost"), d -> true, Duration.ofMillis(150), 3);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(answer.isEmpty());
        assertTrue(elapsedMs >= 440 && elapsedMs < 1200, "took " + elapsedMs + " ms");
        await().atMost(atMost).until(() -> queries.size() == 3);
    }

    @Test
    void aHostCanAskAboutItselfAndAnswerItselfButItsOwnQueryIsNoAnswer() throws Exception {
        AtomicReference<GroupChannel> self = new AtomicReference<>();
        Inbox inbox = new Inbox(r -> {
            if (r.datagram().hasWhoIsHost() && r.datagram().getWhoIsHost().getHost().equals("me")) {
                self.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost("me").setAddress("me:7000")));
            }
        });
        self.set(fx.channel("me", inbox));
        Optional<Received> answer = self.get().ask(GroupFixture.whoIs("me"), d -> true, Duration.ofSeconds(3), 1);
        assertTrue(answer.orElseThrow().datagram().hasHostIs(), "the looped-back query must not count as its own answer");
        assertEquals("me", answer.get().datagram().getSenderHost());
        assertEquals(1, inbox.count(Datagram::hasWhoIsHost), "own multicasts reach the handler");
    }

    @Test
    void askAllCollectsOneAnswerFromEveryHostWithinTheWindow() throws Exception {
        List<AtomicReference<GroupChannel>> hosts = new ArrayList<>();
        for (String name : List.of("h1", "h2", "h3")) {
            AtomicReference<GroupChannel> ref = new AtomicReference<>();
            ref.set(fx.channel(name, new Inbox(r -> {
                if (r.datagram().hasWhoIsHost() && r.datagram().getWhoIsHost().getHost().equals("*")) {
                    ref.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost(name).setAddress(name + ":7350")));
                }
            })));
            hosts.add(ref);
        }
        long start = System.nanoTime();
        List<Datagram> all = hosts.get(0).get().askAll(GroupFixture.whoIs("*"), Datagram::hasHostIs, Duration.ofMillis(300));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("h1", "h2", "h3"), all.stream().map(d -> d.getHostIs().getHost()).sorted().toList(),
                "each host once, although the query went out twice");
        assertTrue(tookMs >= 250 && tookMs < 2000, "waits for the window, no longer: " + tookMs + " ms");
    }

    @Test
    void concurrentAsksEachGetTheirOwnAnswer() throws Exception {
        AtomicReference<GroupChannel> b = new AtomicReference<>();
        b.set(fx.channel("b", r -> {
            if (r.datagram().hasWhoIsHost()) {
                String host = r.datagram().getWhoIsHost().getHost();
                b.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost(host).setAddress(host + "-addr")));
            }
        }));
        GroupChannel asker = fx.channel("asker", r -> {});
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String host = "h" + i;
            answers.add(CompletableFuture.supplyAsync(() -> asker.ask(GroupFixture.whoIs(host), Datagram::hasHostIs,
                    Duration.ofSeconds(1), 3).map(r -> r.datagram().getHostIs().getAddress()).orElse("none")));
        }
        for (int i = 0; i < 16; i++) {
            assertEquals("h" + i + "-addr", answers.get(i).get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aForgedDatagramIsDroppedAndCounted() throws Exception {
        Inbox inbox = new Inbox();
        GroupChannel receiver = fx.channel("receiver", inbox);
        GroupChannel forger = fx.channel("forger", ClusterKey.ofBytes("not-the-cluster-key-not-the-cluster-key".getBytes()), r -> {});
        GroupChannel honest = fx.channel("honest", r -> {});
        forger.multicast(GroupFixture.whoIs("forged"));
        await().atMost(atMost).until(() -> receiver.droppedCount() == 1);
        honest.multicast(GroupFixture.whoIs("marker"));
        await().atMost(atMost).until(() -> inbox.count(d -> d.getWhoIsHost().getHost().equals("marker")) == 1);
        assertEquals(0, inbox.count(d -> d.getSenderHost().equals("forger")));
        assertEquals(1, receiver.droppedCount());
    }

    @Test
    void aReplayedDatagramIsDropped() throws Exception {
        DatagramChannel tap = fx.rawMember();
        Inbox inbox = new Inbox();
        GroupChannel receiver = fx.channel("receiver", inbox);
        GroupChannel sender = fx.channel("sender", r -> {});
        sender.multicast(GroupFixture.whoIs("original"));
        DatagramPacket captured = new DatagramPacket(new byte[SignedCodec.MAX_BYTES], SignedCodec.MAX_BYTES);
        tap.socket().setSoTimeout(5000);
        tap.socket().receive(captured);
        fx.sendRaw(tap, Arrays.copyOf(captured.getData(), captured.getLength()));
        await().atMost(atMost).until(() -> receiver.droppedCount() == 1);
        sender.multicast(GroupFixture.whoIs("marker"));
        await().atMost(atMost).until(() -> inbox.count(d -> d.getWhoIsHost().getHost().equals("marker")) == 1);
        assertEquals(1, inbox.count(d -> d.getWhoIsHost().getHost().equals("original")));
        assertEquals(1, receiver.droppedCount());
    }

    @Test
    void staleOrFutureDatedDatagramsAreDropped() throws Exception {
        DatagramChannel raw = fx.rawMember();
        Inbox inbox = new Inbox();
        GroupChannel receiver = fx.channel("receiver", inbox);
        long now = System.currentTimeMillis();
        long window = GroupChannel.REPLAY_WINDOW.toMillis();
        fx.sendRaw(raw, signed(now - window - 60_000, 1));
        fx.sendRaw(raw, signed(now + window + 60_000, 2));
        fx.sendRaw(raw, signed(now, 3));
        await().atMost(atMost).until(() -> inbox.count(d -> d.getSenderHost().equals("crafted")) == 1);
        await().atMost(atMost).until(() -> receiver.droppedCount() == 2);
        assertEquals(3, inbox.seen.stream().filter(r -> r.datagram().getSenderHost().equals("crafted"))
                .findFirst().orElseThrow().datagram().getNonce());
    }

    @Test
    void malformedAndOversizedDatagramsAreDropped() throws Exception {
        DatagramChannel raw = fx.rawMember();
        GroupChannel receiver = fx.channel("receiver", r -> {});
        fx.sendRaw(raw, new byte[] {(byte) 0xff, 0x01, 0x02});
        byte[] huge = SignedDatagram.newBuilder().setBody(ByteString.copyFrom(new byte[SignedCodec.MAX_BYTES])).build().toByteArray();
        fx.sendRaw(raw, huge);
        await().atMost(atMost).until(() -> receiver.droppedCount() == 2);
        String tooLong = "x".repeat(SignedCodec.MAX_BYTES);
        assertThrows(IllegalArgumentException.class, () -> receiver.multicast(GroupFixture.whoIs(tooLong)));
    }

    @Test
    void repliesGoOnlyToTheAsker() throws Exception {
        AtomicReference<GroupChannel> b = new AtomicReference<>();
        b.set(fx.channel("b", r -> {
            if (r.datagram().hasWhoIsHost()) {
                b.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost("b").setAddress("b:7000")));
            }
        }));
        Inbox bystander = new Inbox();
        fx.channel("bystander", bystander);
        GroupChannel asker = fx.channel("asker", r -> {});
        assertTrue(asker.ask(GroupFixture.whoIs("b"), Datagram::hasHostIs, Duration.ofSeconds(3), 1).isPresent());
        asker.multicast(GroupFixture.whoIs("marker"));
        await().atMost(atMost).until(() -> bystander.count(d -> d.getWhoIsHost().getHost().equals("marker")) == 1);
        assertEquals(0, bystander.count(Datagram::hasHostIs));
    }

    @Test
    void closingEndsAWaitingAsk() throws Exception {
        GroupChannel asker = fx.channel("asker", r -> {});
        CompletableFuture<Optional<Received>> waiting = CompletableFuture.supplyAsync(
                () -> asker.ask(GroupFixture.whoIs("ghost"), d -> true, Duration.ofSeconds(30), 2));
        Thread.sleep(100);
        asker.close();
        assertTrue(waiting.get(3, TimeUnit.SECONDS).isEmpty());
    }

    @Test
    void askBeforeStartIsRefused() throws Exception {
        try (GroupChannel idle = new GroupChannel(new GroupConfig(fx.group, fx.port, fx.lo, "idle", "idle:1"),
                GroupFixture.KEY, System::currentTimeMillis)) {
            assertThrows(IllegalStateException.class, () -> idle.ask(GroupFixture.whoIs("x"), d -> true, Duration.ofMillis(10), 1));
        }
    }

    private static byte[] signed(long sentMs, long nonce) {
        byte[] body = Datagram.newBuilder().setSenderHost("crafted").setSenderAddress("crafted:1")
                .setSentMs(sentMs).setNonce(nonce).setWhoIsHost(dev.ferry.proto.v1.WhoIsHost.newBuilder().setHost("x"))
                .build().toByteArray();
        return SignedDatagram.newBuilder().setBody(ByteString.copyFrom(body))
                .setMac(ByteString.copyFrom(GroupFixture.KEY.mac(body))).build().toByteArray();
    }

}
