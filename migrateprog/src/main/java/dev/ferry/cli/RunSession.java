package dev.ferry.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One {@code run}: sends the RunRequest, streams stdin to the manager on a daemon thread,
 * relays the program's stdout/stderr bytes unchanged, and turns the final frame into the
 * command's exit code.
 */
public final class RunSession {
    /** Exit code for Ferry's own failures (never a program's). */
    public static final int FERRY_FAILURE = 255;
    static final int STDIN_CHUNK = 64 * 1024;
    private static final int SIGPIPE = 13;

    private final FrameChannel channel;
    private final InputStream stdin;
    private final OutputStream stdout;
    private final OutputStream stderr;
    private final Diagnostics diagnostics;
    private final boolean verbose;
    private final boolean stdinIsTerminal;
    private volatile boolean stdoutBroken;

    public RunSession(FrameChannel channel, InputStream stdin, OutputStream stdout,
                      OutputStream stderr, boolean verbose) {
        this(channel, stdin, stdout, stderr, verbose, false);
    }

    /**
     * @param stdinIsTerminal stdin is the controlling terminal: read it only while in the
     *                        foreground (see {@link TerminalForeground})
     */
    public RunSession(FrameChannel channel, InputStream stdin, OutputStream stdout,
                      OutputStream stderr, boolean verbose, boolean stdinIsTerminal) {
        this.stdinIsTerminal = stdinIsTerminal;
        this.channel = channel;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.diagnostics = new Diagnostics(stderr);
        this.verbose = verbose;
    }

    /** Runs the request to its end and returns the exit code `run` must exit with. */
    public int run(RunRequest request) {
        try {
            channel.send(LocalRequest.newBuilder().setRun(request).build());
        } catch (IOException e) {
            diagnostics.say("lost the connection to the program manager: " + e.getMessage());
            return FERRY_FAILURE;
        }
        Thread pump = new Thread(this::copyStdin, "ferry-stdin");
        pump.setDaemon(true);
        pump.start();
        while (true) {
            ServerFrame frame;
            try {
                frame = channel.receive(ServerFrame.parser());
            } catch (InvalidProtocolBufferException e) {
                diagnostics.say("the program manager sent a malformed frame: " + e.getMessage());
                return FERRY_FAILURE;
            } catch (IOException e) {
                diagnostics.say("lost the connection to the program manager before the program exited");
                return FERRY_FAILURE;
            }
            switch (frame.getKindCase()) {
                case STARTED -> {
                    if (verbose) {
                        diagnostics.say(frame.getStarted().getLhId() + " started on "
                                + frame.getStarted().getHost());
                    }
                }
                case STDOUT -> writeStdout(frame.getStdout());
                case STDERR -> writeStderr(frame.getStderr());
                case WARNING -> diagnostics.say("warning: " + frame.getWarning());
                case EXIT -> {
                    return exitCode(frame.getExit());
                }
                case ERROR -> {
                    reportError(frame.getError(), request.getDestination(), request.getSpec().getCwd());
                    return FERRY_FAILURE;
                }
                default -> {
                    // a frame kind from a newer manager: nothing this command can do with it
                }
            }
        }
    }

    /** Sends a signal for the program's process group; called from signal handler threads. */
    public void forwardSignal(int signal) {
        try {
            channel.send(ClientFrame.newBuilder().setSignal(signal).build());
        } catch (IOException e) {
            // the connection is gone; the frame loop reports it
        }
    }

    private int exitCode(ExitStatus exit) {
        if (!exit.getMessage().isEmpty()) {
            diagnostics.say(exit.getMessage());
        }
        return exit.getCode();
    }

    private void reportError(FerryError error, String destination, String cwd) {
        diagnostics.say(error.getMessage());
        // "@ *" with one file in the directory reaches us as a host named like that file.
        if (error.getCode() == ErrorCode.NOT_FOUND && !destination.isEmpty()
                && !destination.equals(RunArguments.ANY_HOST) && fileExists(cwd, destination)) {
            diagnostics.say(RunArguments.EXPANDED_STAR);
        }
    }

    private static boolean fileExists(String cwd, String name) {
        try {
            return Files.exists(Path.of(cwd.isEmpty() ? "." : cwd).resolve(name));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void writeStdout(ByteString bytes) {
        if (stdoutBroken) {
            return;
        }
        try {
            bytes.writeTo(stdout);
            stdout.flush();
        } catch (IOException e) {
            // Our stdout reader went away: a local program would get SIGPIPE on its next write,
            // so send it one; whatever it still writes is dropped.
            stdoutBroken = true;
            forwardSignal(SIGPIPE);
        }
    }

    private void writeStderr(ByteString bytes) {
        try {
            bytes.writeTo(stderr);
            stderr.flush();
        } catch (IOException e) {
            // nowhere to put it
        }
    }

    private void copyStdin() {
        byte[] buffer = new byte[STDIN_CHUNK];
        try {
            while (true) {
                if (stdinIsTerminal) {
                    TerminalForeground.await();
                }
                int n;
                try {
                    n = stdin.read(buffer);
                } catch (IOException e) {
                    n = -1; // closed or unreadable stdin reads as end of input
                }
                if (n < 0) {
                    break;
                }
                if (n > 0) {
                    channel.send(ClientFrame.newBuilder()
                            .setStdin(ByteString.copyFrom(buffer, 0, n)).build());
                }
            }
            channel.send(ClientFrame.newBuilder().setStdinEof(true).build());
        } catch (IOException e) {
            // connection gone: the frame loop reports it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
