package dev.ferry.lhcache;

import dev.ferry.proto.v1.Datagram;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * This host's membership of the program-manager multicast group: signed datagrams out, verified
 * datagrams in, and ask = multicast a query and wait for the first acceptable unicast reply.
 *
 * <p>Design. Two sockets. The <em>group socket</em> is bound to (group, port) with SO_REUSEADDR
 * and joined on the interface, so every channel of the group on this machine, even several in one
 * network namespace, receives each multicast. The <em>unicast socket</em> has an ephemeral port; it
 * sends everything, so a datagram's source address is where its replies must go, and replies come
 * back to this channel only. Only replies arriving on the unicast socket can complete an
 * {@link #ask}, so our own query looping back on the group socket never answers itself, while a reply
 * from our own host (a PM answering "who is host me?") does.
 *
 * <p>One daemon thread receives on both sockets through a selector, drops what fails
 * {@link SignedCodec#open} (counted, logged) and completes waiting asks. The handler runs on a second
 * daemon thread, in arrival order, so a slow or blocking handler (even one calling {@code ask})
 * never delays replies to asks; if it falls 4096 datagrams behind, newer ones are dropped for it.
 *
 * <p>Send failures of {@link #multicast} and {@link #reply} are thrown as {@link UncheckedIOException};
 * {@link #ask} treats them like a lost datagram and tries again until its deadline.
 */
public final class GroupChannel implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GroupChannel.class.getName());
    /** How far sent_ms may be from our clock; PMs' clocks are expected to be NTP-synchronised. */
    static final Duration REPLAY_WINDOW = Duration.ofSeconds(30);
    private static final int HANDLER_BACKLOG = 4096;

    private final GroupConfig config;
    private final LongSupplier clockMillis;
    private final SignedCodec codec;
    private final NetworkInterface iface;
    private final InetSocketAddress groupAddress;
    private final DatagramChannel groupSocket;
    private final DatagramChannel unicastSocket;
    private final Selector selector;
    private final SecureRandom random = new SecureRandom();
    private final PendingAsks pendingAsks = new PendingAsks();
    private final AtomicInteger dropped = new AtomicInteger();
    private final DropLog dropLog = new DropLog();
    private volatile boolean closed;
    private Thread receiver;
    private ThreadPoolExecutor handlerThread;

    public GroupChannel(GroupConfig config, ClusterKey key, LongSupplier clockMillis) throws IOException {
        this.config = Objects.requireNonNull(config, "config");
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
        this.codec = new SignedCodec(Objects.requireNonNull(key, "key"), new ReplayGuard(REPLAY_WINDOW, clockMillis));
        this.iface = config.iface() != null ? config.iface() : MulticastInterfaces.pickDefault();
        if (config.iface() == null) {
            LOG.info(() -> "no group interface configured; joining " + config.group() + " on " + iface.getName());
        }
        this.groupAddress = new InetSocketAddress(config.group(), config.port());
        DatagramChannel group = null;
        DatagramChannel unicast = null;
        Selector sel = null;
        try {
            // Bound to the group address, not the wildcard: Linux then delivers only this group's
            // traffic to the socket, not that of other groups joined on the same port.
            group = DatagramChannel.open(StandardProtocolFamily.INET)
                    .setOption(StandardSocketOptions.SO_REUSEADDR, true)
                    .bind(groupAddress);
            group.join(config.group(), iface);
            unicast = DatagramChannel.open(StandardProtocolFamily.INET)
                    .setOption(StandardSocketOptions.IP_MULTICAST_IF, iface)
                    .setOption(StandardSocketOptions.IP_MULTICAST_TTL, 1)
                    .setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true)
                    .bind(new InetSocketAddress(0));
            sel = Selector.open();
            group.configureBlocking(false).register(sel, SelectionKey.OP_READ, Boolean.FALSE);
            unicast.configureBlocking(false).register(sel, SelectionKey.OP_READ, Boolean.TRUE);
        } catch (IOException | RuntimeException e) {
            closeQuietly(group, unicast, sel);
            throw new IOException(String.format("cannot join multicast group %s on %s: %s",
                    groupAddress, iface.getName(), e.getMessage()), e);
        }
        this.groupSocket = group;
        this.unicastSocket = unicast;
        this.selector = sel;
    }

    /** Starts receiving; {@code handler} sees every verified datagram, our own multicasts included. */
    public synchronized void start(Consumer<Received> handler) {
        Objects.requireNonNull(handler, "handler");
        if (receiver != null) {
            throw new IllegalStateException("group channel already started");
        }
        if (closed) {
            throw new IllegalStateException("group channel is closed");
        }
        String name = "ferry-group-" + config.hostName();
        handlerThread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(HANDLER_BACKLOG), r -> daemon(r, name + "-handler"),
                (r, executor) -> LOG.warning(() -> name + ": handler is " + HANDLER_BACKLOG + " datagrams behind; dropping one"));
        receiver = daemon(() -> receiveLoop(handler), name + "-receive");
        receiver.start();
    }

    /**
     * Signs and multicasts {@code d} after filling sender_host, sender_address, sent_ms, a fresh
     * nonce and, if it is 0, a fresh query_id. Returns the query id.
     */
    public long multicast(Datagram.Builder d) {
        if (d.getQueryId() == 0) {
            d.setQueryId(freshId());
        }
        send(d, groupAddress);
        return d.getQueryId();
    }

    /** Unicasts {@code d} to the sender of {@code to}, as the answer to its query. */
    public void reply(Received to, Datagram.Builder d) {
        d.setQueryId(to.datagram().getQueryId());
        send(d, to.from());
    }

    /**
     * Multicasts {@code query} and returns the first unicast reply carrying its query id that
     * {@code accept} accepts. Resends (same query id, fresh nonce) after each {@code perAttempt}
     * without an answer; returns empty after {@code attempts * perAttempt} at the latest, or at once
     * when the channel closes or the thread is interrupted (interrupt flag kept).
     */
    public Optional<Received> ask(Datagram.Builder query, Predicate<Datagram> accept, Duration perAttempt, int attempts) {
        Objects.requireNonNull(accept, "accept");
        checkAskLimits(perAttempt, attempts);
        synchronized (this) {
            if (receiver == null) {
                throw new IllegalStateException("start() the group channel before asking: replies need its receiver");
            }
        }
        long queryId = query.getQueryId() != 0 ? query.getQueryId() : freshId();
        query.setQueryId(queryId);
        PendingAsks.Pending pending = pendingAsks.register(queryId, accept);
        try {
            long start = System.nanoTime();
            for (int attempt = 1; attempt <= attempts && !closed; attempt++) {
                try {
                    multicast(query);
                } catch (UncheckedIOException e) {
                    LOG.log(Level.FINE, "ask: sending attempt " + attempt + " failed", e);
                }
                Optional<Received> reply = pending.awaitUntil(start + attempt * perAttempt.toNanos());
                if (reply.isPresent()) {
                    return reply;
                }
            }
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            pendingAsks.remove(queryId, pending);
        }
    }

    /**
     * Multicasts a query and collects every accepted reply that arrives within {@code window}
     * (one per sender host): how a manager surveys the whole group. The query is sent twice,
     * at the start and half-way, so one lost datagram does not hide a host.
     */
    public List<Datagram> askAll(Datagram.Builder query, Predicate<Datagram> accept, Duration window) {
        Objects.requireNonNull(accept, "accept");
        checkAskLimits(window, 1);
        synchronized (this) {
            if (receiver == null) {
                throw new IllegalStateException("start() the group channel before asking: replies need its receiver");
            }
        }
        long queryId = freshId();
        query.setQueryId(queryId);
        Map<String, Datagram> bySender = new ConcurrentHashMap<>();
        PendingAsks.Pending pending = pendingAsks.register(queryId, d -> {
            if (accept.test(d)) {
                bySender.putIfAbsent(d.getSenderHost(), d);
            }
            return false; // never "the first answer": keep collecting
        });
        try {
            long start = System.nanoTime();
            for (int round = 1; round <= 2 && !closed; round++) {
                try {
                    multicast(query);
                } catch (UncheckedIOException e) {
                    LOG.log(Level.FINE, "askAll: sending round " + round + " failed", e);
                }
                pending.awaitUntil(start + round * window.toNanos() / 2);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pendingAsks.remove(queryId, pending);
        }
        return new ArrayList<>(bySender.values());
    }

    static void checkAskLimits(Duration perAttempt, int attempts) {
        if (attempts < 1 || perAttempt.isNegative() || perAttempt.isZero()) {
            throw new IllegalArgumentException(String.format(
                    "ask needs attempts >= 1 and a positive perAttempt, got %d x %s", attempts, perAttempt));
        }
    }

    /** Datagrams refused so far: bad MAC, replayed, stale, malformed or oversized. */
    public int droppedCount() {
        return dropped.get();
    }

    @Override
    public void close() {
        Thread toJoin;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toJoin = receiver;
        }
        pendingAsks.abandonAll();
        selector.wakeup();
        if (toJoin != null) {
            try {
                toJoin.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            handlerThread.shutdown();
        }
        closeQuietly(groupSocket, unicastSocket, selector);
    }

    private void send(Datagram.Builder d, SocketAddress to) {
        d.setSenderHost(config.hostName())
                .setSenderAddress(config.grpcAddress())
                .setSentMs(clockMillis.getAsLong())
                .setNonce(random.nextLong());
        ByteBuffer wire = codec.seal(d.build());
        try {
            // The socket is non-blocking (it shares the selector): 0 bytes sent means a full buffer.
            if (unicastSocket.send(wire, to) == 0) {
                throw new IOException("socket send buffer full");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("sending a group datagram to " + to + " failed", e);
        }
    }

    private void receiveLoop(Consumer<Received> handler) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(SignedCodec.MAX_BYTES + 1);
        while (!closed) {
            try {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    drain((DatagramChannel) key.channel(), (Boolean) key.attachment(), buffer, handler);
                }
                selector.selectedKeys().clear();
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "group receive failed; continuing", e);
                }
            }
        }
    }

    private void drain(DatagramChannel socket, boolean repliesArriveHere, ByteBuffer buffer,
                       Consumer<Received> handler) throws IOException {
        SocketAddress from;
        while ((from = socket.receive(buffer.clear())) != null) {
            SignedCodec.Opened opened = codec.open(buffer.flip());
            if (opened.datagram() == null) {
                dropped.incrementAndGet();
                dropLog.dropped(from, opened.refusal());
                continue;
            }
            Received received = new Received(opened.datagram(), (InetSocketAddress) from);
            if (repliesArriveHere && received.datagram().getQueryId() != 0) {
                pendingAsks.offer(received);
            }
            handlerThread.execute(() -> deliver(handler, received));
        }
    }

    private static void deliver(Consumer<Received> handler, Received received) {
        try {
            handler.accept(received);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "group datagram handler threw on a datagram from " + received.from(), e);
        }
    }

    private long freshId() {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0); // 0 means "no query id" on the wire
        return id;
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void closeQuietly(AutoCloseable... closeables) {
        for (AutoCloseable c : closeables) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(Level.FINE, "closing " + c, e);
            }
        }
    }
}
