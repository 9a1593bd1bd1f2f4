package dev.ferry.pm.peer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.pm.lh.LhOwner;
import dev.ferry.proto.v1.Caller;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PermissionsTest {
    private static Caller uid(int u) {
        return Caller.newBuilder().setUid(u).setUser("u" + u).build();
    }

    @Test
    void userRootAndHostOwnerForGuests() {
        Permissions p = new Permissions(OptionalInt.of(1001));
        LhOwner guestOf1000 = new LhOwner(uid(1000), "h1", true);
        LhOwner localOf1000 = new LhOwner(uid(1000), "h2", false);
        assertTrue(p.mayActOn(uid(1000), guestOf1000));
        assertTrue(p.mayActOn(uid(0), guestOf1000));
        assertTrue(p.mayActOn(uid(1001), guestOf1000), "the host's owner may evict guests");
        assertFalse(p.mayActOn(uid(1001), localOf1000), "but not touch programs started locally by others");
        assertFalse(p.mayActOn(uid(1002), guestOf1000));
        assertFalse(new Permissions(OptionalInt.empty()).mayActOn(uid(1001), guestOf1000));
    }
}
