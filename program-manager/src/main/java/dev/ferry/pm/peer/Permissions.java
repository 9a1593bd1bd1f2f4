package dev.ferry.pm.peer;

import dev.ferry.pm.lh.LhOwner;
import dev.ferry.proto.v1.Caller;
import java.util.OptionalInt;

/**
 * Who may act on a logical host: its user, root, and the configured owner of the host it is
 * on, for guests there (the owner reclaims their workstation).
 */
public final class Permissions {
    private final OptionalInt hostOwnerUid;

    public Permissions(OptionalInt hostOwnerUid) {
        this.hostOwnerUid = hostOwnerUid;
    }

    public boolean mayActOn(Caller caller, LhOwner owner) {
        if (caller.getUid() == 0 || caller.getUid() == owner.uid()) {
            return true;
        }
        return owner.guest() && hostOwnerUid.isPresent() && hostOwnerUid.getAsInt() == caller.getUid();
    }
}
