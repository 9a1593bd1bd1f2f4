package dev.ferry.pm.peer;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Ferry's error vocabulary mapped 1:1 onto gRPC status codes, both ways. */
public final class StatusCodes {
    private StatusCodes() {}

    public static Status.Code toGrpc(ErrorCode code) {
        return switch (code) {
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
            case UNAVAILABLE -> Status.Code.UNAVAILABLE;
            case DEADLINE_EXCEEDED -> Status.Code.DEADLINE_EXCEEDED;
            case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
            case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
            default -> Status.Code.INTERNAL;
        };
    }

    public static ErrorCode fromGrpc(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> ErrorCode.INVALID_ARGUMENT;
            case NOT_FOUND -> ErrorCode.NOT_FOUND;
            case PERMISSION_DENIED -> ErrorCode.PERMISSION_DENIED;
            case UNAVAILABLE, CANCELLED, ABORTED -> ErrorCode.UNAVAILABLE;
            case DEADLINE_EXCEEDED -> ErrorCode.DEADLINE_EXCEEDED;
            case FAILED_PRECONDITION -> ErrorCode.FAILED_PRECONDITION;
            case RESOURCE_EXHAUSTED -> ErrorCode.RESOURCE_EXHAUSTED;
            case UNAUTHENTICATED -> ErrorCode.UNAUTHENTICATED;
            default -> ErrorCode.INTERNAL;
        };
    }

    /**
     * Marks a status a manager sent with its own message, as opposed to one gRPC made up on the
     * caller's side (a deadline that passed, a broken connection): that message is kept as is.
     */
    private static final Metadata.Key<String> FERRY_MESSAGE = Metadata.Key.of("ferry-message", Metadata.ASCII_STRING_MARSHALLER);

    public static StatusRuntimeException toGrpc(FerryException e) {
        Metadata trailers = new Metadata();
        trailers.put(FERRY_MESSAGE, "1");
        return Status.fromCode(toGrpc(e.code())).withDescription(e.getMessage()).asRuntimeException(trailers);
    }

    /** Whether a failed call's status was sent by a manager (with its own message), not made up by gRPC. */
    public static boolean fromFerry(Throwable t) {
        Metadata trailers = Status.trailersFromThrowable(t);
        return trailers != null && trailers.containsKey(FERRY_MESSAGE);
    }

    /** Turns a failed peer call into a FerryException; {@code what} names the peer for the message. */
    public static FerryException fromGrpc(Throwable t, String what) {
        Status s = Status.fromThrowable(t);
        ErrorCode code = fromGrpc(s.getCode());
        String detail = s.getDescription() != null ? s.getDescription() : s.getCode().name().toLowerCase();
        if (fromFerry(t)) {
            return new FerryException(code, detail, t);   // e.g. a move in doubt: DEADLINE_EXCEEDED with its own story
        }
        if (code == ErrorCode.UNAVAILABLE && s.getDescription() == null) {
            detail = what + " is unreachable (is its program manager running?)";
        } else if (code == ErrorCode.UNAVAILABLE) {
            detail = what + " is unreachable or went away (" + s.getDescription() + ")";   // "io exception" alone names nobody
        } else if (code == ErrorCode.DEADLINE_EXCEEDED) {
            detail = what + " did not answer in time";
        }
        return new FerryException(code, detail, t);
    }
}
