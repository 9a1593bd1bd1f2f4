package dev.ferry.pm.owner;

import java.time.Duration;

/**
 * How this workstation treats guests around its owner (command line, see ProgramManagerMain).
 *
 * @param idleThreshold how long the owner must have been idle before the host volunteers for
 *     guests, and before guests frozen by a reclaim resume here
 * @param gracePeriod how long a guest that no host takes may wait frozen here before the
 *     {@link NoDestination#KILL} policy ends it (with {@link NoDestination#FREEZE} it waits for as
 *     long as the owner stays active)
 * @param noDestination what happens to a guest that cannot leave when the owner returns
 * @param refuseGuestsWhenActive whether a guest named explicitly ({@code run prog @ HOST}) is
 *     refused while the owner is active; when not, it is accepted and then treated like every
 *     other guest here: moved to a willing host or frozen until the owner is idle
 * @param retryInterval how often guests frozen here look for a willing host
 * @param parallelMoves how many guests move away at once when the owner returns
 */
public record OwnerPolicy(Duration idleThreshold, Duration gracePeriod, NoDestination noDestination,
                          boolean refuseGuestsWhenActive, Duration retryInterval, int parallelMoves) {

    /** What to do with a guest no host takes while the owner is active. */
    public enum NoDestination {
        /** Freeze it here (no CPU) until the owner is idle again or a host volunteers. */
        FREEZE,
        /** Freeze it, and kill it if no host took it within the grace period. */
        KILL
    }

    public static final Duration DEFAULT_IDLE_THRESHOLD = Duration.ofMinutes(5);
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);
    public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofSeconds(2);
    public static final int DEFAULT_PARALLEL_MOVES = 2;

    public OwnerPolicy {
        if (idleThreshold.isNegative() || gracePeriod.isNegative() || retryInterval.isNegative() || retryInterval.isZero()) {
            throw new IllegalArgumentException(String.format(
                    "owner policy durations must not be negative (idle threshold %s, grace period %s) and the retry interval must be positive (%s)",
                    idleThreshold, gracePeriod, retryInterval));
        }
        if (parallelMoves < 1) {
            throw new IllegalArgumentException("at least one guest must be able to move at a time, not " + parallelMoves);
        }
    }

    public static OwnerPolicy defaults() {
        return new OwnerPolicy(DEFAULT_IDLE_THRESHOLD, DEFAULT_GRACE_PERIOD, NoDestination.FREEZE, true,
                DEFAULT_RETRY_INTERVAL, DEFAULT_PARALLEL_MOVES);
    }
}
