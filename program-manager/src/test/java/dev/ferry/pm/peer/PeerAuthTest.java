package dev.ferry.pm.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ferry.lhcache.ClusterKey;
import dev.ferry.lhcache.ReplayGuard;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PeerAuthTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final byte[] keyBytes = new byte[32];

    private PeerAuth auth(byte fill) {
        byte[] k = keyBytes.clone();
        java.util.Arrays.fill(k, fill);
        return new PeerAuth(ClusterKey.ofBytes(k), new ReplayGuard(Duration.ofSeconds(60), now::get), now::get);
    }

    @Test
    void acceptsAGoodTokenOnceOnlyForItsMethod() {
        PeerAuth a = auth((byte) 1);
        String t = a.token("ferry.v1.ProgramManager/ListLhs");
        assertNotEquals("", a.check("ferry.v1.ProgramManager/CreateLh", t), "bound to the method");
        assertEquals("", a.check("ferry.v1.ProgramManager/ListLhs", t));
        assertEquals("replayed or stale authentication", a.check("ferry.v1.ProgramManager/ListLhs", t));
    }

    @Test
    void refusesWrongKeyMissingMalformedAndStale() {
        PeerAuth a = auth((byte) 1);
        PeerAuth other = auth((byte) 2);
        String m = "ferry.v1.ProgramManager/Status";
        assertEquals("wrong cluster key", a.check(m, other.token(m)));
        assertEquals("no cluster-key authentication", a.check(m, null));
        assertEquals("malformed authentication", a.check(m, "garbage"));
        assertEquals("malformed authentication", a.check(m, "1.zz.00"));
        String old = a.token(m);
        now.addAndGet(Duration.ofMinutes(5).toMillis());
        assertEquals("replayed or stale authentication", a.check(m, old));
    }
}
