package dev.ferry.pm.owner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IdleClockTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    @Test
    void startsFromTheGivenIdleTimeAndCountsFromTheLastInput() {
        IdleClock c = new IdleClock(nanos::get, Duration.ofSeconds(3), 10_000, "atime");
        assertEquals(10_000, c.idleMillis());
        assertFalse(c.ownerActive());
        assertEquals("atime", c.lastDevice());
        nanos.addAndGet(500_000_000L);
        assertEquals(10_500, c.input("/dev/pts/4"), "idle time before the input");
        assertTrue(c.ownerActive());
        assertEquals("/dev/pts/4", c.lastDevice());
        assertEquals("idle only 0 s (threshold 3 s)", c.describeActive());
        nanos.addAndGet(2_999_000_000L);
        assertTrue(c.ownerActive());
        assertEquals("idle only 3.0 s (threshold 3 s)", c.describeActive());
        nanos.addAndGet(1_000_000L);
        assertFalse(c.ownerActive());
    }

    @Test
    void aNegativeStartIsNoIdleTime() {
        IdleClock c = new IdleClock(nanos::get, Duration.ofMinutes(5), -700, "future atime");
        assertEquals(0, c.idleMillis());
        assertTrue(c.ownerActive());
    }

    @Test
    void secondsShowTenthsOnlyWhenTheyMatter() {
        assertEquals("300 s", IdleClock.seconds(300_000));
        assertEquals("1.2 s", IdleClock.seconds(1_234));
    }
}
