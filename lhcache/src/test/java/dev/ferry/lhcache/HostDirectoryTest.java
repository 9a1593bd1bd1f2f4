package dev.ferry.lhcache;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.lhcache.GroupFixture.Inbox;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.HostIs;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HostDirectoryTest {
    private final GroupFixture fx = new GroupFixture();

    HostDirectoryTest() throws Exception {}

    @AfterEach
    void cleanUp() throws Exception {
        fx.close();
    }

    /** A PM that answers "who is host NAME?" for its own name with {@code address}. */
    private Inbox pm(String host, String address) throws Exception {
        AtomicReference<GroupChannel> self = new AtomicReference<>();
        Inbox inbox = new Inbox(r -> {
            if (r.datagram().hasWhoIsHost() && r.datagram().getWhoIsHost().getHost().equals(host)) {
                self.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost(host).setAddress(address)));
            }
        });
        // A real manager's datagrams carry the same address it answers with.
        self.set(fx.channel(host, address, GroupFixture.KEY, inbox));
        return inbox;
    }

    private HostDirectory wiredDirectory(String host) throws Exception {
        AtomicReference<HostDirectory> dir = new AtomicReference<>();
        GroupChannel channel = fx.channel(host, r -> dir.get().onDatagram(r));
        dir.set(new HostDirectory(channel, Duration.ofMillis(300), 3));
        return dir.get();
    }

    @Test
    void resolvesByQueryThenFromTheCache() throws Exception {
        Inbox b = pm("b", "10.0.0.2:7100");
        HostDirectory dir = wiredDirectory("asker");
        assertEquals("10.0.0.2:7100", dir.resolve("b").orElseThrow());
        assertEquals("10.0.0.2:7100", dir.resolve("b").orElseThrow());
        assertEquals(1, b.count(Datagram::hasWhoIsHost));
    }

    @Test
    void aHostResolvesItself() throws Exception {
        AtomicReference<HostDirectory> dir = new AtomicReference<>();
        AtomicReference<GroupChannel> self = new AtomicReference<>();
        self.set(fx.channel("me", r -> {
            if (r.datagram().hasWhoIsHost() && r.datagram().getWhoIsHost().getHost().equals("me")) {
                self.get().reply(r, Datagram.newBuilder().setHostIs(HostIs.newBuilder().setHost("me").setAddress("me:7000")));
            }
        }));
        dir.set(new HostDirectory(self.get(), Duration.ofMillis(300), 3));
        assertEquals("me:7000", dir.get().resolve("me").orElseThrow());
    }

    @Test
    void learnsSendersFromAnyDatagram() throws Exception {
        HostDirectory dir = wiredDirectory("asker");
        GroupChannel talker = fx.channel("talker", r -> {});
        talker.multicast(GroupFixture.whoIs("someone-else"));
        await().atMost(Duration.ofSeconds(5)).until(() -> dir.resolve("talker").filter("talker:7000"::equals).isPresent());
    }

    @Test
    void invalidateForgetsOnlyTheDeadAddressAndResolveFindsTheNewOne() throws Exception {
        pm("b", "10.0.0.2:7200");
        HostDirectory dir = wiredDirectory("asker");
        dir.learn("b", "10.0.0.2:7100");
        dir.invalidate("b", "10.0.0.9:1");
        assertEquals("10.0.0.2:7100", dir.resolve("b").orElseThrow());
        dir.invalidate("b", "10.0.0.2:7100"); // the PM restarted on another port
        assertEquals("10.0.0.2:7200", dir.resolve("b").orElseThrow());
    }

    @Test
    void anUnknownHostIsEmptyWithinTheDeadline() throws Exception {
        HostDirectory dir = wiredDirectory("asker");
        long start = System.nanoTime();
        assertTrue(dir.resolve("nobody").isEmpty());
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(elapsedMs < 1500, "took " + elapsedMs + " ms");
    }
}
