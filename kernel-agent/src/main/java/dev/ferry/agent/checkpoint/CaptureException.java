package dev.ferry.agent.checkpoint;

/** The capture failed part-way; the program was detached and thawed and runs on unharmed. */
public final class CaptureException extends Exception {
    public CaptureException(String message, Throwable cause) {
        super(message, cause);
    }
}
