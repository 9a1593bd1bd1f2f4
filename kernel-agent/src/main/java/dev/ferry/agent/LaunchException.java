package dev.ferry.agent;

/** A logical host could not be started (cgroup, state directory or launcher trouble). */
public class LaunchException extends Exception {
    private static final long serialVersionUID = 1L;

    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
