package dev.ferry.pm.owner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The reclaim decisions, on a fake clock, with fake guests and a queue standing in for the move threads. */
class EvacuatorTest {
    private static final Duration THRESHOLD = Duration.ofSeconds(3);
    private static final Duration RETRY = Duration.ofSeconds(2);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    /** Starts idle for a minute. */
    private final IdleClock idle = new IdleClock(nanos::get, THRESHOLD, 60_000, "test");
    private final List<Evacuator.Guest> guests = new ArrayList<>();
    private final List<Runnable> queued = new ArrayList<>();
    private Optional<String> volunteer = Optional.empty();
    private int volunteerQueries;

    private Evacuator evacuator(OwnerPolicy.NoDestination action, Duration grace) {
        OwnerPolicy policy = new OwnerPolicy(THRESHOLD, grace, action, true, RETRY, 2);
        return new Evacuator(idle, policy, () -> List.copyOf(guests), () -> {
            volunteerQueries++;
            return volunteer;
        }, queued::add, () -> nanos.get() / 1_000_000L);
    }

    private Evacuator evacuator() {
        return evacuator(OwnerPolicy.NoDestination.FREEZE, Duration.ofSeconds(30));
    }

    private void advance(long millis) {
        nanos.addAndGet(millis * 1_000_000L);
    }

    private void runQueued() {
        while (!queued.isEmpty()) {
            queued.remove(0).run();
        }
    }

    private FakeGuest guest(String id) {
        FakeGuest g = new FakeGuest(id);
        guests.add(g);
        return g;
    }

    @Test
    void guestsStayWhileTheOwnerIsIdle() {
        FakeGuest g = guest("a");
        Evacuator e = evacuator();
        e.pass();
        runQueued();
        assertEquals(List.of(), g.events);
    }

    @Test
    void whenTheOwnerTypesEveryGuestMovesAwayOnce() {
        FakeGuest a = guest("a");
        FakeGuest b = guest("b");
        Evacuator e = evacuator();
        idle.input("/dev/pts/7");
        e.pass();
        e.pass();
        assertEquals(2, queued.size(), "one move per guest, however many passes");
        runQueued();
        assertEquals(List.of("move *"), a.events);
        assertEquals(List.of("move *"), b.events);
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void aGuestNoHostTakesIsFrozenThenMovedWhenAHostVolunteers() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        assertTrue(g.frozen);
        assertEquals(List.of("a"), e.heldIds());
        advance(1000);
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(1, volunteerQueries, "the first retry comes at once");
        assertEquals(List.of("move *", "freeze"), g.events, "nobody volunteered: it stays frozen");
        advance(1000);
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(1, volunteerQueries, "not again before the retry interval");
        g.failWith = null;
        volunteer = Optional.of("h1");
        advance(1000);
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(List.of("move *", "freeze", "thaw", "move h1"), g.events);
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void aFrozenGuestResumesWhenTheOwnerIsIdleAgain() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        assertTrue(g.frozen);
        advance(2999);
        e.pass();
        runQueued();
        assertTrue(g.frozen, "still within the idle threshold");
        advance(1);
        e.pass();
        assertFalse(g.frozen);
        assertEquals(List.of(), e.heldIds());
        assertEquals(List.of("move *", "freeze", "thaw"), g.events);
    }

    @Test
    void aGuestWhoseMoveIsRefusedIsFrozenToo() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.FAILED_PRECONDITION;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        assertTrue(g.frozen);
    }

    @Test
    void killPolicyWithoutGraceKillsAtOnce() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator(OwnerPolicy.NoDestination.KILL, Duration.ZERO);
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(List.of("move *", "kill"), g.events);
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void killPolicyKillsAfterTheGracePeriodIfTheOwnerStaysActive() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator(OwnerPolicy.NoDestination.KILL, Duration.ofSeconds(10));
        idle.input("tty");
        e.pass();
        runQueued();
        assertTrue(g.frozen && !g.killed);
        for (int i = 0; i < 9; i++) {
            advance(1000);
            idle.input("tty");
            e.pass();
            runQueued();
        }
        assertFalse(g.killed, "9 s: within the grace period");
        advance(1000);
        idle.input("tty");
        e.pass();
        assertTrue(g.killed);
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void anInDoubtMoveIsLeftToTheMigration() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.DEADLINE_EXCEEDED;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(List.of("move *"), g.events);
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void aGuestThatCouldNotLeaveRunsOnIfTheOwnerLeftMeanwhile() {
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        advance(3000);
        runQueued();
        assertEquals(List.of("move *"), g.events);
    }

    @Test
    void busyGuestsAreLeftAloneAndGoneOnesForgotten() {
        FakeGuest busy = guest("busy");
        busy.busy = true;
        FakeGuest g = guest("a");
        g.failWith = ErrorCode.UNAVAILABLE;
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(List.of(), busy.events);
        assertEquals(List.of("a"), e.heldIds());
        guests.remove(g);
        e.pass();
        assertEquals(List.of(), e.heldIds());
    }

    @Test
    void aGuestItsUserStoppedIsHeldButNotRetried() {
        FakeGuest g = guest("a");
        g.stoppedByUser = true;
        g.failWith = ErrorCode.FAILED_PRECONDITION;
        volunteer = Optional.of("h1");
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        runQueued();
        advance(5000);
        idle.input("tty");
        e.pass();
        runQueued();
        assertEquals(List.of("move *", "freeze"), g.events);
        assertEquals(0, volunteerQueries);
    }

    @Test
    void aGuestArrivingWhileTheOwnerIsActiveIsHandledAtTheNextPass() {
        Evacuator e = evacuator();
        idle.input("tty");
        e.pass();
        FakeGuest late = guest("late");
        e.pass();
        runQueued();
        assertEquals(List.of("move *"), late.events);
    }
}
