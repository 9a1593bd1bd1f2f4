package dev.ferry.pm;

import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.FerryError;

/** A failure with one of Ferry's error codes and a one-line message that says what to do. */
public final class FerryException extends Exception {
    private final ErrorCode code;

    public FerryException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public FerryException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public FerryError toProto() {
        return FerryError.newBuilder().setCode(code).setMessage(getMessage()).build();
    }

    public static FerryException of(ErrorCode code, String format, Object... args) {
        return new FerryException(code, String.format(format, args));
    }
}
