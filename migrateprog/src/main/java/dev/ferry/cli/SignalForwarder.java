package dev.ferry.cli;

import java.io.File;
import java.io.IOException;
import java.util.function.IntConsumer;
import sun.misc.Signal;

/**
 * Passes the job-control and termination signals that reach {@code run} on to the program.
 *
 * <p>HotSpot keeps SIGQUIT for itself, so bin/run starts the JVM through ferry-signals, which
 * blocks the relayed signals and hands over a signalfd (FERRY_CALLER_SIGNAL_FD) from which they are
 * read here — SIGQUIT included. Without it (the wrapper is missing) the JVM's own signal
 * handling is used for all but SIGQUIT. After
 * forwarding SIGTSTP, {@code run} stops itself so the shell gets its prompt back; the SIGCONT
 * that resumes it is forwarded too. A signal the shell started us with ignored (INT in a
 * background job) stays ignored, as it would for a local program.
 */
public final class SignalForwarder {
    private static final int SIGHUP = 1;
    private static final int SIGINT = 2;
    private static final int SIGTERM = 15;
    private static final int SIGCONT = 18;
    private static final int SIGTSTP = 20;

    private SignalForwarder() {
    }

    public static void install(IntConsumer forward) {
        String fd = System.getenv("FERRY_CALLER_SIGNAL_FD");
        if (fd != null && SignalFdReader.start(fd, signal -> relay(signal, forward))) {
            return;
        }
        handle("HUP", () -> forward.accept(SIGHUP));
        handle("INT", () -> forward.accept(SIGINT));
        handle("TERM", () -> forward.accept(SIGTERM));
        handle("CONT", () -> forward.accept(SIGCONT));
        handle("TSTP", () -> {
            forward.accept(SIGTSTP);
            stopSelf();
        });
    }

    private static void relay(int signal, IntConsumer forward) {
        forward.accept(signal);
        if (signal == SIGTSTP) {
            stopSelf();
        }
    }

    /**
     * Stops this process the way a terminal stop would. Java can only raise signals it
     * handles itself, so a shell's builtin kill sends the SIGSTOP (only on Ctrl-Z, so the
     * fork does not matter).
     */
    private static void stopSelf() {
        try {
            new ProcessBuilder("/bin/sh", "-c", "kill -STOP \"$1\"", "sh",
                    Long.toString(ProcessHandle.current().pid()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor();
        } catch (IOException e) {
            // cannot stop: run keeps running, the program was stopped anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void handle(String name, Runnable action) {
        try {
            Signal.handle(new Signal(name), signal -> action.run());
        } catch (IllegalArgumentException e) {
            // the JVM keeps this signal (started with -Xrs): it keeps its default action
        }
    }
}
