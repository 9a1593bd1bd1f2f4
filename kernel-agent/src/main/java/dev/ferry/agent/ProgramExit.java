package dev.ferry.agent;

/**
 * How a logical host's program ended. Exactly one of three cases holds: the launch failed
 * ({@code launchFailed}, {@code message} says why), exec failed ({@code execErrno != 0}), or
 * the program ran and {@code waitStatus} is its raw wait(2) status. {@code message} is "" when
 * there is nothing to add.
 */
public record ProgramExit(int waitStatus, int execErrno, boolean launchFailed, String message) {

    public ProgramExit {
        message = message == null ? "" : message;
    }

    static ProgramExit exited(int waitStatus, String message) {
        return new ProgramExit(waitStatus, 0, false, message);
    }

    static ProgramExit execFailed(int errno) {
        return new ProgramExit(0, errno, false, "");
    }

    static ProgramExit launchFailure(String message) {
        return new ProgramExit(0, 0, true, message);
    }

    public boolean exitedNormally() {
        return !launchFailed && execErrno == 0 && (waitStatus & 0x7f) == 0;
    }

    public boolean signalled() {
        int sig = waitStatus & 0x7f;
        return !launchFailed && execErrno == 0 && sig != 0 && sig != 0x7f;
    }

    /** The code a POSIX shell would report: status, 128+signal, 127/126 for exec failures, 255. */
    public int shellCode() {
        if (launchFailed) {
            return 255;
        }
        if (execErrno != 0) {
            return execErrno == Errno.ENOENT ? 127 : 126;
        }
        if (signalled()) {
            return 128 + (waitStatus & 0x7f);
        }
        return (waitStatus >> 8) & 0xff;
    }

    /** One line for people, e.g. "killed by signal 9 (SIGKILL)". */
    public String describe() {
        String text;
        if (launchFailed) {
            text = "launch failed: " + message;
        } else if (execErrno != 0) {
            text = "could not execute the program: " + Errno.describe(execErrno);
        } else if (signalled()) {
            int sig = waitStatus & 0x7f;
            text = "killed by signal " + sig + " (" + Signals.name(sig) + ")"
                    + ((waitStatus & 0x80) != 0 ? ", core dumped" : "");
        } else {
            text = "exited with status " + shellCode();
        }
        return launchFailed || message.isEmpty() ? text : text + " (" + message + ")";
    }
}
