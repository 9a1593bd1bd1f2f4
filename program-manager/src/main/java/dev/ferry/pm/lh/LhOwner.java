package dev.ferry.pm.lh;

import dev.ferry.proto.v1.Caller;

/** Who an LH belongs to and where it came from; fixed for the LH's life. */
public record LhOwner(Caller caller, String originHost, boolean guest) {
    public int uid() {
        return caller.getUid();
    }
}
