package dev.ferry.cli;

/** The command line cannot be understood; the message says why in one line. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
