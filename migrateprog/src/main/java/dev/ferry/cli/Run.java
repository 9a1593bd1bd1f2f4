package dev.ferry.cli;

import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.RunRequest;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * {@code run [OPTIONS] PROG ARGS... [@ HOST | @ '*']}: runs a program as a logical host on
 * this host, on HOST, or on any willing host, as if it ran here: same arguments, environment,
 * directory, umask, limits, stdin/stdout/stderr and signals. Exits with the program's status
 * (128+N for signal N) or 255 for Ferry's own failures. Started by bin/run.
 */
public final class Run {
    private Run() {
    }

    public static void main(String[] args) {
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        OutputStream stderr = new FileOutputStream(FileDescriptor.err);
        int code = execute(args, stdout, stderr);
        // halt: the stdin thread may be blocked in read(2), and nothing is left to flush.
        Runtime.getRuntime().halt(code);
    }

    static int execute(String[] args, OutputStream stdout, OutputStream stderr) {
        Diagnostics diagnostics = new Diagnostics(stderr);
        RunArguments arguments;
        try {
            arguments = RunArguments.parse(Arrays.asList(args));
        } catch (UsageException e) {
            diagnostics.say(e.getMessage());
            diagnostics.line(RunArguments.USAGE);
            return RunSession.FERRY_FAILURE;
        }
        if (arguments.help()) {
            new PrintStream(stdout, true).print(HELP);
            return 0;
        }
        if (arguments.version()) {
            new PrintStream(stdout, true).println("run (Ferry) " + Version.get());
            return 0;
        }
        if (!arguments.restartDir().isEmpty()) {
            return connectAndRun(diagnostics, arguments, stdout, stderr, RunRequest.newBuilder()
                    .setRestartDir(java.nio.file.Path.of(arguments.restartDir()).toAbsolutePath().normalize().toString())
                    .setDestination(arguments.destination())
                    .build());
        }
        ProgramSpec spec;
        try {
            spec = CallerSpec.capture(arguments.argv());
        } catch (IOException | RuntimeException e) {
            diagnostics.say("cannot read this process's environment from /proc: " + e.getMessage());
            return RunSession.FERRY_FAILURE;
        }
        return connectAndRun(diagnostics, arguments, stdout, stderr, RunRequest.newBuilder()
                .setSpec(spec)
                .setDestination(arguments.destination())
                .build());
    }

    private static int connectAndRun(Diagnostics diagnostics, RunArguments arguments, OutputStream stdout,
                                     OutputStream stderr, RunRequest request) {
        FrameChannel channel;
        try {
            channel = ManagerSocket.connect(ManagerSocket.path(System.getenv()));
        } catch (ManagerSocket.UnreachableException e) {
            diagnostics.say(e.getMessage());
            return RunSession.FERRY_FAILURE;
        }
        RunSession session = new RunSession(channel, new FileInputStream(FileDescriptor.in),
                stdout, stderr, arguments.verbose(), TerminalForeground.stdinIsControllingTerminal());
        SignalForwarder.install(session::forwardSignal);
        return session.run(request);
    }

    private static final String HELP = RunArguments.USAGE + "\n"
            + "\n"
            + "Runs PROG with ARGS as a logical host, with this shell's environment, directory,\n"
            + "umask and limits; its stdin, stdout, stderr and signals are relayed.\n"
            + "\n"
            + "  @ HOST, @HOST   run it on HOST\n"
            + "  @ '*', @any     run it on any willing host (quote the '*')\n"
            + "  (no @)          run it on this host, where it can be migrated later\n"
            + "  -v, --verbose   print 'ferry: LHID started on HOST' on stderr\n"
            + "  --restart DIR   bring back a program checkpointed with migrateprog --checkpoint DIR:\n"
            + "                  the same logical host the first time, a fork (new id) after that\n"
            + "  --version       print the version\n"
            + "  --              end of options (options are only read before PROG)\n"
            + "\n"
            + "The last standalone '@' names the destination; to pass '@' words to PROG and run\n"
            + "it here, end with @ ''. Exit status: PROG's, 128+N if signal N ended it, 126/127\n"
            + "if it could not be executed, 255 if Ferry failed. FERRY_SOCKET overrides the\n"
            + "program manager's socket (" + ManagerSocket.DEFAULT_PATH + ").\n";
}
