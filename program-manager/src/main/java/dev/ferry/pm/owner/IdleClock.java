package dev.ferry.pm.owner;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long this workstation's owner has been idle: the time since the last input seen on the
 * watched devices. Kept on a monotonic clock (a wall-clock step must not make the owner look
 * active or idle); the starting value comes from the devices' access times.
 */
public final class IdleClock {
    private final LongSupplier nanos;
    private final long thresholdMillis;
    private volatile long lastInputNanos;
    private volatile String lastDevice;

    /**
     * @param nanos a monotonic clock (System::nanoTime)
     * @param initialIdleMillis how long the owner had been idle when the clock started
     * @param initialSource what that figure came from, for logs
     */
    public IdleClock(LongSupplier nanos, Duration threshold, long initialIdleMillis, String initialSource) {
        this.nanos = nanos;
        this.thresholdMillis = threshold.toMillis();
        this.lastInputNanos = nanos.getAsLong() - Math.max(0, initialIdleMillis) * 1_000_000L;
        this.lastDevice = initialSource;
    }

    /** Records input on {@code device}; returns how long the owner had been idle before it, in ms. */
    public long input(String device) {
        long now = nanos.getAsLong();
        long idleBefore = (now - lastInputNanos) / 1_000_000L;
        lastInputNanos = now;
        lastDevice = device;
        return Math.max(0, idleBefore);
    }

    public long idleMillis() {
        return Math.max(0, (nanos.getAsLong() - lastInputNanos) / 1_000_000L);
    }

    /** The owner is active until idle for the threshold. */
    public boolean ownerActive() {
        return idleMillis() < thresholdMillis;
    }

    public long thresholdMillis() {
        return thresholdMillis;
    }

    /** Where the last input was seen (or where the starting figure came from). */
    public String lastDevice() {
        return lastDevice;
    }

    /** "idle only 1.2 s (threshold 3 s)": why an active owner keeps guests away. */
    public String describeActive() {
        return String.format("idle only %s (threshold %s)", seconds(idleMillis()), seconds(thresholdMillis));
    }

    /** 1.2 s, 3 s, 300 s: tenths only when they matter. */
    static String seconds(long millis) {
        if (millis % 1000 == 0) {
            return (millis / 1000) + " s";
        }
        return String.format("%.1f s", millis / 1000.0);
    }
}
