package dev.ferry.pm.migrate;

/**
 * When pre-copy stops copying a running program and freezes it (README "Live migration"):
 * as soon as the pages it dirtied during the last round could be sent within
 * {@code freezeTargetMs} at the copy rate measured so far (never less than
 * {@code minFinalBytes}), or when the dirty set has failed to shrink below {@code minShrink}
 * of the previous one for two rounds in a row (the program writes faster than the link
 * carries), or after {@code maxRounds} rounds.
 */
public record PrecopyPolicy(int maxRounds, double freezeTargetMs, double minShrink, long minFinalBytes) {
    /** Defaults measured on the test machines: see docs/BENCHMARKS.md. */
    public static final PrecopyPolicy DEFAULT = new PrecopyPolicy(30, 5.0, 0.8, 256 << 10);

    public PrecopyPolicy {
        if (maxRounds < 1 || freezeTargetMs < 0 || minShrink <= 0 || minShrink > 1 || minFinalBytes < 0) {
            throw new IllegalArgumentException("pre-copy: max rounds >= 1, freeze target >= 0 ms, 0 < shrink <= 1");
        }
    }

    /** Dirty bytes small enough to send while frozen, at {@code bytesPerMs}. */
    long finalBytes(double bytesPerMs) {
        return Math.max(minFinalBytes, (long) (bytesPerMs * freezeTargetMs));
    }
}
