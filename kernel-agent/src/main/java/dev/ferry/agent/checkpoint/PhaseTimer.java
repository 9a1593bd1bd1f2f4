package dev.ferry.agent.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the time of a capture or a rebuild goes: {@link #mark} closes the phase that ran since
 * the previous mark. Safe to share between the caller and a tracer thread (synchronized).
 */
public final class PhaseTimer {
    /** A timer that records nothing, for callers that do not ask. */
    public static PhaseTimer none() {
        return new PhaseTimer();
    }

    private final Map<String, Long> nanos = new LinkedHashMap<>();
    private long last = System.nanoTime();

    /** Starts timing from now (the time since construction or the last mark is dropped). */
    public synchronized void restart() {
        last = System.nanoTime();
    }

    /** Adds the time since the previous mark to {@code phase}. */
    public synchronized void mark(String phase) {
        long now = System.nanoTime();
        nanos.merge(phase, now - last, Long::sum);
        last = now;
    }

    public synchronized Map<String, Long> nanos() {
        return new LinkedHashMap<>(nanos);
    }

    @Override
    public synchronized String toString() {
        StringBuilder b = new StringBuilder();
        nanos.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ')
                .append(String.format("%.1f ms", v / 1e6)));
        return b.toString();
    }
}
