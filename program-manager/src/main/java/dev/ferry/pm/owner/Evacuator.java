package dev.ferry.pm.owner;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.MigrateResult;
import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Keeps guests off this host while its owner is active: the V-System's promise that the owner
 * gets the workstation back within seconds, without asking.
 *
 * <pre>
 *  owner active, guest running here     -> move it to a willing host ("*"), pre-copy as usual
 *     the move fails (no host, refused)  -> FREEZE it here (no CPU): "held"
 *                                          (policy kill with no grace period: kill it at once)
 *  held, a host volunteers              -> thaw it and move it there; if that fails, freeze again
 *  held, owner idle again                -> thaw it: it goes on here
 *  held longer than the grace period     -> policy kill: kill it; policy freeze: keep waiting
 * </pre>
 * A guest in the middle of a migration or in doubt is left to the migration, which freezes it
 * itself. Programs the owner started here are never guests, so never touched. {@link #pass}
 * makes every decision; it runs on input (at once) and on a timer, so a guest that arrives
 * while the owner is active (accepted explicitly, or moved here) is handled within one tick.
 * Every decision is logged with its reason.
 */
public final class Evacuator {
    private static final Logger LOG = Logger.getLogger(Evacuator.class.getName());

    /** A guest LH hosted here, as the evacuator sees it. */
    public interface Guest {
        String id();

        /** The program's name, for logs. */
        String program();

        /** Being migrated or in doubt: the migration machinery owns it for now. */
        boolean busy();

        /** Stopped by its user ({@code lhosts stop}): it cannot move until continued. */
        boolean stoppedByUser();

        /** Moves it to {@code to} ("*": the first willing host), as migrateprog would. */
        MigrateResult move(String to) throws FerryException;

        /** Freezes it for the owner (a user's {@code lhosts cont} does not thaw it). */
        void freeze() throws IOException;

        /** Takes the owner's freeze back (a user's stop stays). */
        void thaw() throws IOException;

        void kill();
    }

    /** The guests hosted here now (not ended, not moved away). */
    @FunctionalInterface
    public interface Guests {
        List<Guest> current();
    }

    /** A willing host other than this one, if one answers now. */
    @FunctionalInterface
    public interface Volunteers {
        Optional<String> find();
    }

    private record Held(Guest guest, long sinceMillis, String why) {}

    private final IdleClock idle;
    private final OwnerPolicy policy;
    private final Guests guests;
    private final Volunteers volunteers;
    private final Executor movers;
    private final LongSupplier millis;
    /** Guests this evacuator froze here, by id. */
    private final Map<String, Held> held = new LinkedHashMap<>();
    /** Guests with a move (or an attempt) under way, by id. */
    private final Set<String> moving = new HashSet<>();
    private boolean wasActive;
    private boolean retryQueued;
    private long lastRetryMillis = Long.MIN_VALUE / 2;

    /**
     * @param movers runs moves, at most {@link OwnerPolicy#parallelMoves()} at a time
     * @param millis a monotonic clock in milliseconds
     */
    public Evacuator(IdleClock idle, OwnerPolicy policy, Guests guests, Volunteers volunteers, Executor movers,
                     LongSupplier millis) {
        this.idle = idle;
        this.policy = policy;
        this.guests = guests;
        this.volunteers = volunteers;
        this.movers = movers;
        this.millis = millis;
        this.wasActive = idle.ownerActive();
    }

    /** One round of decisions; cheap when there is nothing to do. */
    public void pass() {
        boolean active = idle.ownerActive();
        List<Guest> present = guests.current();
        synchronized (this) {
            logTransition(active, present.size());
            forgetGone(present);
            if (!active) {
                resumeHeld();
                return;
            }
            for (Guest g : present) {
                if (!g.busy() && !moving.contains(g.id()) && !held.containsKey(g.id())) {
                    moving.add(g.id());
                    movers.execute(() -> evacuate(g));
                }
            }
            killOverdue();
            long now = millis.getAsLong();
            boolean anyMovable = held.values().stream().anyMatch(h -> !h.guest().stoppedByUser());
            if (anyMovable && !retryQueued && now - lastRetryMillis >= policy.retryInterval().toMillis()) {
                retryQueued = true;
                lastRetryMillis = now;
                movers.execute(this::retryHeld);
            }
        }
    }

    /** The ids of the guests frozen here for the owner (for status and tests). */
    public synchronized List<String> heldIds() {
        return List.copyOf(held.keySet());
    }

    private void logTransition(boolean active, int guestCount) {
        if (active == wasActive) {
            return;
        }
        wasActive = active;
        if (active) {
            LOG.info(() -> guestCount == 0 ? "owner active (input on " + idle.lastDevice() + "); no guest here"
                    : String.format("owner active (input on %s): %d guest(s) must leave", idle.lastDevice(), guestCount));
        } else {
            LOG.info(() -> String.format("owner idle for %s (threshold %s): this host volunteers again",
                    IdleClock.seconds(idle.idleMillis()), IdleClock.seconds(idle.thresholdMillis())));
        }
    }

    /** Guests that ended or left (killed by their user, say) are no longer held. */
    private void forgetGone(List<Guest> present) {
        Set<String> ids = new HashSet<>();
        present.forEach(g -> ids.add(g.id()));
        held.keySet().removeIf(id -> {
            if (!ids.contains(id)) {
                LOG.info(() -> "reclaim: " + id + " ended while frozen here; forgotten");
                return true;
            }
            return false;
        });
    }

    private void evacuate(Guest g) {
        long start = millis.getAsLong();
        try {
            MigrateResult r = g.move("*");
            LOG.info(() -> String.format("reclaim: %s (%s) moved to %s because the owner is active: frozen %.1f ms, %d ms after the decision",
                    g.id(), g.program(), r.getTo(), r.getFreezeMs(), millis.getAsLong() - start));
        } catch (FerryException e) {
            cannotLeave(g, e, millis.getAsLong());
        } catch (RuntimeException e) {
            cannotLeave(g, new FerryException(ErrorCode.INTERNAL, e.toString(), e), millis.getAsLong());
        } finally {
            synchronized (this) {
                moving.remove(g.id());
            }
        }
    }

    /** The guest stays here: freeze it (or kill it), unless the owner left meanwhile. */
    private void cannotLeave(Guest g, FerryException e, long since) {
        if (e.code() == ErrorCode.DEADLINE_EXCEEDED) {
            LOG.warning(() -> "reclaim: " + g.id() + " (" + g.program() + ") is in doubt after its move (" + e.getMessage()
                    + "); it stays frozen as the migration left it");
            return;
        }
        synchronized (this) {
            if (!idle.ownerActive()) {
                LOG.info(() -> "reclaim: " + g.id() + " (" + g.program() + ") could not leave (" + e.getMessage()
                        + ") but the owner is idle again: it goes on here");
                return;
            }
            if (policy.noDestination() == OwnerPolicy.NoDestination.KILL && policy.gracePeriod().isZero()) {
                g.kill();
                LOG.info(() -> "reclaim: killed " + g.id() + " (" + g.program() + "): the owner is active and it could not leave ("
                        + e.getMessage() + "); policy kill, no grace period");
                return;
            }
            try {
                g.freeze();
            } catch (IOException fe) {
                g.kill();
                LOG.severe("reclaim: killed " + g.id() + " (" + g.program() + "): it could not leave (" + e.getMessage()
                        + ") and could not be frozen (" + fe.getMessage() + "); a guest must not run while the owner is active");
                return;
            }
            held.put(g.id(), new Held(g, since, e.getMessage()));
        }
        String then = policy.noDestination() == OwnerPolicy.NoDestination.KILL
                ? "killed if no host takes it within " + IdleClock.seconds(policy.gracePeriod().toMillis())
                : "resumed when the owner is idle for " + IdleClock.seconds(idle.thresholdMillis());
        LOG.info(() -> "reclaim: froze " + g.id() + " (" + g.program() + ") here: the owner is active and it could not leave ("
                + e.getMessage() + "); it moves as soon as a host volunteers, else is " + then);
    }

    /** A host volunteers: held guests go there, one after the other. */
    private void retryHeld() {
        try {
            Optional<String> to = volunteers.find();
            if (to.isEmpty()) {
                return;
            }
            for (Held h : snapshotMovable()) {
                Guest g = h.guest();
                synchronized (this) {
                    if (!idle.ownerActive() || held.get(g.id()) != h) {
                        continue;
                    }
                    // Thawed only for the move: the capture freezes it again at once (pre-copy runs it at guest priority).
                    moving.add(g.id());
                    held.remove(g.id());
                    try {
                        g.thaw();
                    } catch (IOException e) {
                        LOG.warning("reclaim: could not thaw " + g.id() + " to move it: " + e.getMessage());
                    }
                }
                try {
                    MigrateResult r = g.move(to.get());
                    LOG.info(() -> String.format("reclaim: %s (%s) moved to %s, a host that volunteered, after %s frozen here (frozen %.1f ms for the move)",
                            g.id(), g.program(), r.getTo(), IdleClock.seconds(millis.getAsLong() - h.sinceMillis()), r.getFreezeMs()));
                } catch (FerryException e) {
                    cannotLeave(g, e, h.sinceMillis());
                } catch (RuntimeException e) {
                    cannotLeave(g, new FerryException(ErrorCode.INTERNAL, e.toString(), e), h.sinceMillis());
                } finally {
                    synchronized (this) {
                        moving.remove(g.id());
                    }
                }
            }
        } finally {
            synchronized (this) {
                retryQueued = false;
            }
        }
    }

    private synchronized List<Held> snapshotMovable() {
        return held.values().stream().filter(h -> !h.guest().stoppedByUser()).toList();
    }

    private void resumeHeld() {
        long now = millis.getAsLong();
        for (Held h : held.values()) {
            try {
                h.guest().thaw();
                LOG.info(() -> String.format("reclaim: resumed %s (%s) here after %s frozen: the owner is idle for %s (threshold %s)",
                        h.guest().id(), h.guest().program(), IdleClock.seconds(now - h.sinceMillis()),
                        IdleClock.seconds(idle.idleMillis()), IdleClock.seconds(idle.thresholdMillis())));
            } catch (IOException e) {
                LOG.severe("reclaim: could not resume " + h.guest().id() + ": " + e.getMessage());
            }
        }
        held.clear();
    }

    private void killOverdue() {
        if (policy.noDestination() != OwnerPolicy.NoDestination.KILL) {
            return;
        }
        long now = millis.getAsLong();
        held.values().removeIf(h -> {
            if (now - h.sinceMillis() < policy.gracePeriod().toMillis()) {
                return false;
            }
            h.guest().kill();
            LOG.info(() -> String.format("reclaim: killed %s (%s): no host took it within the grace period %s while the owner was active (%s); policy kill",
                    h.guest().id(), h.guest().program(), IdleClock.seconds(policy.gracePeriod().toMillis()), h.why()));
            return true;
        });
    }
}
