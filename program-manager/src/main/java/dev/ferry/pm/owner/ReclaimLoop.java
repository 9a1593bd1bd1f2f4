package dev.ferry.pm.owner;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the evacuator: a pass at once when the owner types (coalesced: a burst of keys costs one
 * pass) and every {@value #TICK_MS} ms (the owner going idle, guests arriving, retries); moves
 * run on a pool of {@link OwnerPolicy#parallelMoves()} threads.
 */
public final class ReclaimLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ReclaimLoop.class.getName());
    static final long TICK_MS = 250;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("reclaim"));
    private final ExecutorService movers;
    private final Evacuator evacuator;
    private final AtomicBoolean kickPending = new AtomicBoolean();

    private ReclaimLoop(IdleClock idle, OwnerPolicy policy, Evacuator.Guests guests, Evacuator.Volunteers volunteers) {
        this.movers = Executors.newFixedThreadPool(policy.parallelMoves(), daemon("reclaim-move"));
        this.evacuator = new Evacuator(idle, policy, guests, volunteers, movers, () -> System.nanoTime() / 1_000_000L);
    }

    public static ReclaimLoop start(IdleClock idle, OwnerPolicy policy, Evacuator.Guests guests, Evacuator.Volunteers volunteers) {
        ReclaimLoop loop = new ReclaimLoop(idle, policy, guests, volunteers);
        loop.timer.scheduleWithFixedDelay(loop::pass, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        return loop;
    }

    /** Input seen: decide now rather than at the next tick. */
    public void kick() {
        if (kickPending.compareAndSet(false, true)) {
            try {
                timer.execute(() -> {
                    kickPending.set(false);
                    pass();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    public Evacuator evacuator() {
        return evacuator;
    }

    private void pass() {
        try {
            evacuator.pass();
        } catch (RuntimeException e) {
            // A failed pass must not end the timer: the next one decides again.
            LOG.log(Level.SEVERE, "reclaim pass failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        movers.shutdownNow();
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
