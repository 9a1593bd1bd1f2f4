package dev.ferry.pm.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

class StatusCodesTest {
    @Test
    void aManagersOwnMessageCrossesTheWireUnchanged() {
        FerryException sent = new FerryException(ErrorCode.DEADLINE_EXCEEDED, "moving x to h2 is in doubt: ...");
        FerryException received = StatusCodes.fromGrpc(StatusCodes.toGrpc(sent), "host h1");
        assertEquals(ErrorCode.DEADLINE_EXCEEDED, received.code());
        assertEquals("moving x to h2 is in doubt: ...", received.getMessage());
    }

    @Test
    void whatGrpcMadeUpOnTheCallersSideNamesThePeer() {
        FerryException late = StatusCodes.fromGrpc(
                Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded after 2.0s").asRuntimeException(), "host h2");
        assertEquals("host h2 did not answer in time", late.getMessage());
        FerryException gone = StatusCodes.fromGrpc(Status.UNAVAILABLE.asRuntimeException(), "host h3");
        assertEquals(ErrorCode.UNAVAILABLE, gone.code());
        assertEquals("host h3 is unreachable (is its program manager running?)", gone.getMessage());
        FerryException reset = StatusCodes.fromGrpc(Status.UNAVAILABLE.withDescription("io exception").asRuntimeException(), "host h2");
        assertEquals("host h2 is unreachable or went away (io exception)", reset.getMessage());
    }
}
