package dev.ferry.lhcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReplayGuardTest {
    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
    private final ReplayGuard guard = new ReplayGuard(Duration.ofSeconds(30), now::get);

    @Test
    void acceptsAPairOnceOnly() {
        assertTrue(guard.accept("a", 7, now.get()));
        assertFalse(guard.accept("a", 7, now.get()));
        assertFalse(guard.accept("a", 7, now.get() - 1000), "same pair with another send time is still a replay");
        assertTrue(guard.accept("a", 8, now.get()));
        assertTrue(guard.accept("b", 7, now.get()));
    }

    @Test
    void refusesSendTimesOutsideTheWindowEitherWay() {
        assertFalse(guard.accept("a", 1, now.get() - 30_001));
        assertFalse(guard.accept("a", 2, now.get() + 30_001));
        assertTrue(guard.accept("a", 3, now.get() - 30_000));
        assertTrue(guard.accept("a", 4, now.get() + 30_000));
    }

    @Test
    void aReplayAfterTheWindowIsRefusedByTimeAndMemoryIsGivenBack() {
        long sent = now.get();
        assertTrue(guard.accept("a", 1, sent));
        now.addAndGet(29_000);
        assertFalse(guard.accept("a", 1, sent));
        assertEquals(1, guard.remembered());
        now.addAndGet(2_000);
        assertFalse(guard.accept("a", 1, sent));
        assertEquals(0, guard.remembered());
    }

    @Test
    void aFutureDatedPairIsRememberedUntilItsOwnWindowEnds() {
        long sent = now.get() + 20_000;
        assertTrue(guard.accept("a", 1, sent));
        now.addAndGet(45_000); // 25 s after it was "sent": still inside the window, must still be remembered
        assertFalse(guard.accept("a", 1, sent));
    }

    @Test
    void exactlyOneOfManyConcurrentCopiesIsAccepted() throws InterruptedException {
        AtomicInteger accepted = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int nonce = 0; nonce < 1000; nonce++) {
                    if (guard.accept("a", nonce, now.get())) {
                        accepted.incrementAndGet();
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1000, accepted.get());
    }

    @Test
    void refusesANonPositiveWindow() {
        assertThrows(IllegalArgumentException.class, () -> new ReplayGuard(Duration.ZERO, now::get));
    }
}
