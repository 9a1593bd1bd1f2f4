package dev.ferry.cli;

import com.google.protobuf.MessageLite;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.LocalRequest;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What the request/answer commands (lhosts, migrateprog) share: one request to the local
 * program manager per answer, output on stdout, `ferry:` messages on stderr, and one exit-code
 * vocabulary: 0 done, 1 not everything done, 2 usage, 255 Ferry's own failure.
 */
abstract class LocalCommand {
    static final int DONE = 0;
    static final int NOT_ALL_DONE = 1;
    static final int USAGE = 2;
    static final int FERRY_FAILURE = 255;

    private final Path socket;
    private final OutputStream stdout;
    final Diagnostics diagnostics;

    LocalCommand(Path socket, OutputStream stdout, OutputStream stderr) {
        this.socket = socket;
        this.stdout = stdout;
        this.diagnostics = new Diagnostics(stderr);
    }

    /** Makes a command writing to the given streams and talking to the manager at {@code socket}. */
    interface Factory {
        LocalCommand create(Path socket, OutputStream stdout, OutputStream stderr);
    }

    /** The commands' main: run with the process's stdio and the configured socket, then halt with the exit code. */
    static void main(Factory factory, String[] args) {
        OutputStream stdout = new java.io.FileOutputStream(java.io.FileDescriptor.out);
        OutputStream stderr = new java.io.FileOutputStream(java.io.FileDescriptor.err);
        int code = factory.create(ManagerSocket.path(System.getenv()), stdout, stderr).execute(args);
        Runtime.getRuntime().halt(code);
    }

    abstract int execute(String[] args);

    /** Errors about the action itself mean "not done" (1); broken machinery is Ferry's (255). */
    static int exitCodeOf(ErrorCode code) {
        return switch (code) {
            case INTERNAL, UNAUTHENTICATED, ERROR_CODE_UNSPECIFIED, UNRECOGNIZED -> FERRY_FAILURE;
            default -> NOT_ALL_DONE;
        };
    }

    <T extends MessageLite> T ask(LocalRequest request, Parser<T> parser)
            throws IOException, ManagerSocket.UnreachableException {
        try (FrameChannel channel = ManagerSocket.connect(socket)) {
            channel.send(request);
            T answer = channel.receive(parser);
            if (answer == null) {
                throw new IOException("the program manager closed the connection without an answer");
            }
            return answer;
        }
    }

    /**
     * Like {@link #ask(LocalRequest, Parser)} for answers that come after interim replies
     * (progress): each reply {@code interim} accepts goes to {@code onInterim}, the first other
     * one is the answer.
     */
    <T extends MessageLite> T ask(LocalRequest request, Parser<T> parser, java.util.function.Predicate<T> interim,
                                  java.util.function.Consumer<T> onInterim) throws IOException, ManagerSocket.UnreachableException {
        try (FrameChannel channel = ManagerSocket.connect(socket)) {
            channel.send(request);
            for (;;) {
                T answer = channel.receive(parser);
                if (answer == null) {
                    throw new IOException("the program manager closed the connection without an answer");
                }
                if (!interim.test(answer)) {
                    return answer;
                }
                onInterim.accept(answer);
            }
        }
    }

    int print(String text) {
        try {
            stdout.write(text.getBytes(StandardCharsets.UTF_8));
            stdout.flush();
            return DONE;
        } catch (IOException e) {
            return NOT_ALL_DONE; // the reader went away (lhosts | head): nothing to report to
        }
    }
}
