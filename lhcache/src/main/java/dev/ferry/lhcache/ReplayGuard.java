package dev.ferry.lhcache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Refuses a signed datagram that was already seen, or whose send time is too far from our clock.
 *
 * <p>Why a pair is remembered only until {@code sentMillis + window}: after that moment the
 * time check alone refuses the datagram, so memory stays proportional to the traffic of one
 * window. The memory is unbounded on purpose: evicting a pair early would reopen a replay, and only
 * holders of the cluster key can add pairs (datagrams are verified before they reach the guard).
 *
 * <p>The clock is injected (milliseconds) and drives Caffeine's {@code Ticker}, so tests move
 * time forward without sleeping. Thread-safe.
 */
public final class ReplayGuard {
    private final long windowMillis;
    private final LongSupplier clockMillis;
    /** (sender, nonce) -> the moment (ms) after which the time check alone refuses it. */
    private final Cache<Seen, Long> seen;

    public ReplayGuard(Duration window, LongSupplier clockMillis) {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("replay window must be positive, was " + window);
        }
        this.windowMillis = window.toMillis();
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
        this.seen = Caffeine.newBuilder()
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clockMillis.getAsLong()))
                .executor(Runnable::run) // maintenance on the caller: no background threads, deterministic tests
                .expireAfter(new UntilOutsideWindow())
                .build();
    }

    /**
     * True the first time a (sender, nonce) pair arrives with {@code sentMillis} within
     * +-window of now; false for a replay or a datagram sent too long ago or too far in the future.
     */
    public boolean accept(String sender, long nonce, long sentMillis) {
        long now = clockMillis.getAsLong();
        if (Math.abs(now - sentMillis) > windowMillis) {
            return false;
        }
        Long forgetAt = sentMillis + windowMillis + 1;
        return seen.asMap().putIfAbsent(new Seen(sender, nonce), forgetAt) == null;
    }

    /** Number of pairs currently remembered (tests: proves memory is given back). */
    long remembered() {
        seen.cleanUp();
        return seen.estimatedSize();
    }

    private record Seen(String sender, long nonce) {}

    private static final class UntilOutsideWindow implements Expiry<Seen, Long> {
        @Override
        public long expireAfterCreate(Seen key, Long forgetAtMillis, long currentTimeNanos) {
            return Math.max(1, TimeUnit.MILLISECONDS.toNanos(forgetAtMillis) - currentTimeNanos);
        }

        @Override
        public long expireAfterUpdate(Seen key, Long value, long currentTimeNanos, long currentDurationNanos) {
            return currentDurationNanos;
        }

        @Override
        public long expireAfterRead(Seen key, Long value, long currentTimeNanos, long currentDurationNanos) {
            return currentDurationNanos;
        }
    }
}
