package dev.ferry.agent.ptrace;

import com.sun.jna.LastErrorException;

/** A ptrace, wait or injected-syscall failure; {@link #errno()} is 0 when none applies. */
public class TraceException extends Exception {
    private final int errno;

    public TraceException(String message) {
        super(message);
        this.errno = 0;
    }

    public TraceException(String what, LastErrorException cause) {
        super(what + ": errno " + cause.getErrorCode(), cause);
        this.errno = cause.getErrorCode();
    }

    public TraceException(String message, int errno) {
        super(message + ": errno " + errno);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
