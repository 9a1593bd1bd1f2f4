package dev.ferry.lhcache;

import dev.ferry.proto.v1.Datagram;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Queries waiting for their first acceptable reply, by query id. The receive thread offers every
 * reply; the asking thread waits with a deadline. Many asks may wait at once.
 */
final class PendingAsks {
    private static final Logger LOG = Logger.getLogger(PendingAsks.class.getName());

    private final ConcurrentMap<Long, Pending> byQueryId = new ConcurrentHashMap<>();

    /** One waiting query; completes with the first reply its predicate accepts, or null when abandoned. */
    static final class Pending {
        private final Predicate<Datagram> accept;
        private final CompletableFuture<Received> first = new CompletableFuture<>();

        private Pending(Predicate<Datagram> accept) {
            this.accept = accept;
        }

        /** Waits until {@code deadlineNanos} (System.nanoTime) for an accepted reply. */
        Optional<Received> awaitUntil(long deadlineNanos) throws InterruptedException {
            long remaining = deadlineNanos - System.nanoTime();
            try {
                return Optional.ofNullable(remaining > 0 ? first.get(remaining, TimeUnit.NANOSECONDS) : first.getNow(null));
            } catch (TimeoutException e) {
                return Optional.empty();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a pending ask never completes exceptionally", e);
            }
        }

        private void offer(Received reply) {
            if (first.isDone()) {
                return;
            }
            boolean accepted;
            try {
                accepted = accept.test(reply.datagram());
            } catch (RuntimeException e) {
                // A faulty predicate must not kill the receive thread; the reply just does not count.
                LOG.log(Level.WARNING, "ask predicate threw on a reply from " + reply.from(), e);
                accepted = false;
            }
            if (accepted) {
                first.complete(reply);
            }
        }
    }

    Pending register(long queryId, Predicate<Datagram> accept) {
        Pending pending = new Pending(accept);
        if (byQueryId.putIfAbsent(queryId, pending) != null) {
            throw new IllegalStateException(String.format("query id %x is already being asked", queryId));
        }
        return pending;
    }

    void remove(long queryId, Pending pending) {
        byQueryId.remove(queryId, pending);
    }

    /** Hands a reply to the ask waiting for its query id, if any. */
    void offer(Received reply) {
        Pending pending = byQueryId.get(reply.datagram().getQueryId());
        if (pending != null) {
            pending.offer(reply);
        }
    }

    /** Ends every wait at once with no reply (the channel is closing). */
    void abandonAll() {
        byQueryId.values().forEach(p -> p.first.complete(null));
    }
}
