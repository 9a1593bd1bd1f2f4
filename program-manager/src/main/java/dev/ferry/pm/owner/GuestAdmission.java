package dev.ferry.pm.owner;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import java.util.logging.Logger;

/**
 * Whether a new guest may start here now. While the owner is active a guest named explicitly
 * ({@code run prog @ HOST}) is refused, saying why, unless the policy accepts it; an accepted
 * one is handed to the evacuator at once (moved on, or frozen until the owner is idle).
 */
public final class GuestAdmission {
    private static final Logger LOG = Logger.getLogger(GuestAdmission.class.getName());

    private final String hostName;
    private final IdleClock idle;
    private final OwnerPolicy policy;
    private final Runnable admitted;

    /** @param admitted called after a guest started here (the evacuator's kick) */
    public GuestAdmission(String hostName, IdleClock idle, OwnerPolicy policy, Runnable admitted) {
        this.hostName = hostName;
        this.idle = idle;
        this.policy = policy;
        this.admitted = admitted;
    }

    /** Throws PERMISSION_DENIED when a guest of {@code who} running {@code program} may not start here now. */
    public void check(String who, String program) throws FerryException {
        if (!policy.refuseGuestsWhenActive() || !idle.ownerActive()) {
            return;
        }
        String why = String.format("%s takes no guests now: its owner is active, %s; run it @ '*' to use an idle host",
                hostName, idle.describeActive());
        LOG.info(() -> "refused guest " + program + " of " + who + ": owner active (" + idle.describeActive() + ")");
        throw new FerryException(ErrorCode.PERMISSION_DENIED, why);
    }

    /** A guest started here: if the owner is active it must not stay running. */
    public void started() {
        admitted.run();
    }
}
