package dev.ferry.cli;

import com.google.protobuf.ByteString;
import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.ControlReply;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.HostsReply;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ListReply;
import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.ProcessInfo;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import dev.ferry.proto.v1.Started;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run for the commands' class-data-sharing archive (bin/lib/java.sh runs it with
 * -XX:ArchiveClassesAtExit): walks the code paths of {@code run} and {@code lhosts} against an
 * in-process stand-in manager on a private socket, so the classes a real command loads are
 * already parsed and verified when it starts. Prints nothing; touches nothing outside its own
 * temporary directory.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("ferry-cds-");
        Path socket = dir.resolve("pm.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread manager = new Thread(() -> serve(server), "training-manager");
            manager.setDaemon(true);
            manager.start();
            train(socket, dir);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static void train(Path socket, Path dir) throws Exception {
        OutputStream sink = OutputStream.nullOutputStream();
        RunArguments arguments = RunArguments.parse(List.of("-v", "sh", "-c", "cat", "@", "*"));
        RunArguments.parse(List.of("sh", "@any"));
        expectUsageError(() -> RunArguments.parse(List.of("sh", "@", "a", "b")));
        expectUsageError(() -> LhostsArguments.parse(List.of("--bogus")));
        Run.execute(new String[] {"--help"}, sink, sink);
        Run.execute(new String[] {"--version"}, sink, sink);
        Run.execute(new String[] {}, sink, sink);

        RunSession session = new RunSession(ManagerSocket.connect(socket),
                new ByteArrayInputStream(new byte[100_000]), sink, sink, true);
        session.forwardSignal(2);
        session.run(RunRequest.newBuilder()
                .setSpec(CallerSpec.capture(arguments.argv()))
                .setDestination(arguments.destination())
                .build());
        SignalForwarder.class.getName();
        TerminalForeground.stdinIsControllingTerminal();
        TerminalForeground.isForeground(Files.readString(Path.of("/proc/self/stat")));
        try {
            ManagerSocket.connect(dir.resolve("missing.sock"));
        } catch (ManagerSocket.UnreachableException expected) {
            // the unreachable path is trained too
        }
        for (String[] command : List.of(new String[] {}, new String[] {"--json"},
                new String[] {"--hosts"}, new String[] {"--hosts", "--json"},
                new String[] {"stop", "x"}, new String[] {"--help"}, new String[] {"bogus"})) {
            new Lhosts(socket, sink, sink).execute(command);
        }
    }

    private interface Parse {
        void run() throws UsageException;
    }

    private static void expectUsageError(Parse parse) {
        try {
            parse.run();
        } catch (UsageException expected) {
            // that is the path being trained
        }
    }

    /** A stand-in manager: answers every request kind once per connection. */
    private static void serve(ServerSocketChannel server) {
        while (true) {
            try (FrameChannel client = new FrameChannel(server.accept())) {
                LocalRequest request = client.receive(LocalRequest.parser());
                switch (request.getKindCase()) {
                    case RUN -> answerRun(client);
                    case LIST -> client.send(ListReply.newBuilder()
                            .addLhs(LhInfo.newBuilder().setId("a1").setHost("h").setUser("u")
                                    .setProgram("sh").setState("running").addArgv("sh")
                                    .addProcesses(ProcessInfo.newBuilder().setName("a1.2").setPid(2)
                                            .setHostPid(99).setCommand("sh\n").setState("sleeping")))
                            .addErrors(FerryError.newBuilder().setMessage("h2 did not answer"))
                            .build());
                    case HOSTS -> client.send(HostsReply.newBuilder()
                            .addHosts(HostStatus.newBuilder().setHost("h").setLoad(0.25)
                                    .setFreeMem(1 << 30).setIdleS(12.5).setWhyUnwilling("owner"))
                            .build());
                    default -> client.send(ControlReply.newBuilder()
                            .setError(FerryError.newBuilder().setMessage("no such LH")).build());
                }
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
            }
        }
    }

    private static void answerRun(FrameChannel client) throws IOException {
        client.send(ServerFrame.newBuilder().setStarted(Started.newBuilder().setLhId("a1").setHost("h")).build());
        while (true) {
            ClientFrame frame = client.receive(ClientFrame.parser());
            if (frame.getKindCase() == ClientFrame.KindCase.STDIN) {
                client.send(ServerFrame.newBuilder().setStdout(frame.getStdin()).build());
            } else if (frame.getKindCase() == ClientFrame.KindCase.STDIN_EOF) {
                break;
            }
        }
        client.send(ServerFrame.newBuilder().setStderr(ByteString.copyFromUtf8("e")).build());
        client.send(ServerFrame.newBuilder().setWarning("w").build());
        client.send(ServerFrame.newBuilder().setExit(ExitStatus.newBuilder().setCode(0)).build());
    }
}
