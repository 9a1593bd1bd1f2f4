package dev.ferry.lhcache;

import dev.ferry.proto.v1.Datagram;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Several group channels in this network namespace, on loopback (Linux carries multicast on lo
 * once the interface is named explicitly, as GroupChannel does with IP_MULTICAST_IF), on a random
 * administratively scoped group and port so concurrent test runs do not hear each other.
 * Closes every channel, raw socket and scheduler it created.
 */
final class GroupFixture implements AutoCloseable {
    static final byte[] KEY_BYTES = "ferry-test-cluster-key-0123456789abcdef".getBytes();
    static final ClusterKey KEY = ClusterKey.ofBytes(KEY_BYTES);

    final InetAddress group;
    final int port;
    final NetworkInterface lo;
    final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    GroupFixture() throws IOException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        group = InetAddress.getByName("239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        port = r.nextInt(20_000, 60_000);
        lo = NetworkInterface.getByName("lo");
    }

    GroupChannel channel(String host, ClusterKey key, Consumer<Received> handler) throws IOException {
        return channel(host, host + ":7000", key, handler);
    }

    /** A member whose own gRPC address (sent in every datagram) is {@code address}, as a real manager's is. */
    GroupChannel channel(String host, String address, ClusterKey key, Consumer<Received> handler) throws IOException {
        GroupChannel channel = new GroupChannel(
                new GroupConfig(group, port, lo, host, address), key, System::currentTimeMillis);
        toClose.add(channel);
        channel.start(handler);
        return channel;
    }

    GroupChannel channel(String host, Consumer<Received> handler) throws IOException {
        return channel(host, KEY, handler);
    }

    /** A plain socket joined to the group: sees datagrams as bytes and can send any bytes. */
    DatagramChannel rawMember() throws IOException {
        DatagramChannel raw = DatagramChannel.open(StandardProtocolFamily.INET)
                .setOption(StandardSocketOptions.SO_REUSEADDR, true)
                .setOption(StandardSocketOptions.IP_MULTICAST_IF, lo)
                .bind(new InetSocketAddress(group, port));
        toClose.add(raw);
        raw.join(group, lo);
        return raw;
    }

    void sendRaw(DatagramChannel raw, byte[] bytes) throws IOException {
        raw.send(ByteBuffer.wrap(bytes), new InetSocketAddress(group, port));
    }

    static Datagram.Builder whoIs(String host) {
        return Datagram.newBuilder().setWhoIsHost(dev.ferry.proto.v1.WhoIsHost.newBuilder().setHost(host));
    }

    @Override
    public void close() throws Exception {
        scheduler.shutdownNow();
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    /** Everything a channel's handler saw. */
    static final class Inbox implements Consumer<Received> {
        final ConcurrentLinkedQueue<Received> seen = new ConcurrentLinkedQueue<>();
        private final Consumer<Received> then;

        Inbox() {
            this(r -> {});
        }

        Inbox(Consumer<Received> then) {
            this.then = then;
        }

        @Override
        public void accept(Received r) {
            seen.add(r);
            then.accept(r);
        }

        long count(java.util.function.Predicate<Datagram> which) {
            return seen.stream().map(Received::datagram).filter(which).count();
        }
    }
}
