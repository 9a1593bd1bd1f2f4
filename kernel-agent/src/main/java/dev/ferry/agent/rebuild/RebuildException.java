package dev.ferry.agent.rebuild;

/** The image cannot be rebuilt here, or the rebuild failed; no half-built process is left running. */
public final class RebuildException extends Exception {
    public RebuildException(String message) {
        super(message);
    }

    public RebuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
