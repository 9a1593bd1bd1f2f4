package dev.ferry.pm.owner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GuestAdmissionTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    private final IdleClock idle = new IdleClock(nanos::get, Duration.ofSeconds(3), 60_000, "test");
    private final AtomicInteger kicks = new AtomicInteger();

    private GuestAdmission admission(boolean refuse) {
        OwnerPolicy p = new OwnerPolicy(Duration.ofSeconds(3), Duration.ZERO, OwnerPolicy.NoDestination.FREEZE, refuse,
                Duration.ofSeconds(1), 1);
        return new GuestAdmission("h2", idle, p, kicks::incrementAndGet);
    }

    @Test
    void anActiveOwnersHostRefusesExplicitGuestsSayingWhy() throws FerryException {
        GuestAdmission a = admission(true);
        a.check("ann@h1", "sort");
        idle.input("/dev/pts/2");
        FerryException e = assertThrows(FerryException.class, () -> a.check("ann@h1", "sort"));
        assertEquals(ErrorCode.PERMISSION_DENIED, e.code());
        assertTrue(e.getMessage().startsWith("h2 takes no guests now: its owner is active, idle only 0 s (threshold 3 s); run it @ '*'"), e.getMessage());
        nanos.addAndGet(3_000_000_000L);
        a.check("ann@h1", "sort");
    }

    @Test
    void acceptingHostTakesThemAndWakesTheEvacuator() throws FerryException {
        GuestAdmission a = admission(false);
        idle.input("/dev/pts/2");
        a.check("ann@h1", "sort");
        a.started();
        assertEquals(1, kicks.get());
    }
}
