package dev.ferry.agent;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.LibC;
import java.util.List;

/** Sending signals to host pids and process groups, and naming signals. */
public final class Signals {
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGTSTP = 20;

    /** x86_64 numbering, index = signal number. */
    private static final List<String> NAMES = List.of("SIG0",
            "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
            "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
            "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
            "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS");
    /** glibc's SIGRTMIN: 32 and 33 are reserved for the C library's own use. */
    private static final int SIGRTMIN = 34;
    private static final int SIGRTMAX = 64;

    private Signals() {}

    /** kill(2); a process that is already gone (ESRCH) is not an error. */
    public static void kill(int pid, int sig) {
        if (pid <= 0) {
            throw new IllegalArgumentException("refusing to signal pid " + pid);
        }
        try {
            LibC.INSTANCE.kill(pid, sig);
        } catch (LastErrorException e) {
            rethrowUnlessGone(e, "kill(" + pid + ", " + name(sig) + ")");
        }
    }

    /** killpg(2); a process group that is already gone (ESRCH) is not an error. */
    public static void killpg(int pgrp, int sig) {
        if (pgrp <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + pgrp);
        }
        try {
            LibC.INSTANCE.killpg(pgrp, sig);
        } catch (LastErrorException e) {
            rethrowUnlessGone(e, "killpg(" + pgrp + ", " + name(sig) + ")");
        }
    }

    /** "SIGTERM", "SIGRTMIN+2", or "SIG33" for numbers without a name. */
    public static String name(int sig) {
        if (sig > 0 && sig < NAMES.size()) {
            return NAMES.get(sig);
        }
        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
            return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + (sig - SIGRTMIN);
        }
        return "SIG" + sig;
    }

    private static void rethrowUnlessGone(LastErrorException e, String call) {
        if (e.getErrorCode() != LibC.ESRCH) {
            throw new IllegalStateException(call + " failed: " + Errno.describe(e.getErrorCode()), e);
        }
    }
}
