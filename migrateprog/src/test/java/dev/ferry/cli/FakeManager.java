package dev.ferry.cli;

import dev.ferry.proto.v1.ClientFrame;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.ServerFrame;
import dev.ferry.proto.v1.Started;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A program manager stand-in for tests: a Unix socket server in a private temporary directory
 * that speaks the local protocol. Each connection's first LocalRequest goes to the test's
 * handler, which answers through the FrameChannel. Close it to remove socket and directory.
 */
final class FakeManager implements AutoCloseable {
    interface Handler {
        void handle(LocalRequest request, Connection connection) throws IOException;
    }

    /** One accepted connection, with the frames it received recorded in order. */
    static final class Connection {
        final FrameChannel channel;
        final BlockingQueue<ClientFrame> received = new LinkedBlockingQueue<>();

        Connection(FrameChannel channel) {
            this.channel = channel;
        }

        void send(ServerFrame frame) throws IOException {
            channel.send(frame);
        }

        /** Reads the next client frame (waiting for it) and records it. */
        ClientFrame next() throws IOException {
            ClientFrame frame = channel.receive(ClientFrame.parser());
            received.add(frame);
            return frame;
        }
    }

    final Path directory;
    final Path socket;
    final List<LocalRequest> requests = new CopyOnWriteArrayList<>();
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final Handler handler;

    FakeManager(Handler handler) throws IOException {
        this.handler = handler;
        this.directory = Files.createTempDirectory("ferry-fake-pm-");
        this.socket = directory.resolve("pm.sock");
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "fake-manager");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                FrameChannel channel = new FrameChannel(server.accept());
                Thread worker = new Thread(() -> serve(channel), "fake-manager-connection");
                worker.setDaemon(true);
                worker.start();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                failures.add(e);
                return;
            }
        }
    }

    private void serve(FrameChannel channel) {
        try (channel) {
            LocalRequest request = channel.receive(LocalRequest.parser());
            requests.add(request);
            handler.handle(request, new Connection(channel));
        } catch (IOException e) {
            // the client went away: tests check what arrived before
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    LocalRequest awaitRequest() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (requests.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return requests.isEmpty() ? null : requests.get(0);
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(directory);
    }

    /** Answers every run with Started, then exit code 0 at once: for measuring start times. */
    public static void main(String[] args) throws Exception {
        FakeManager manager = new FakeManager((request, connection) -> {
            connection.send(ServerFrame.newBuilder()
                    .setStarted(Started.newBuilder().setLhId("bench1").setHost("fake")).build());
            connection.send(ServerFrame.newBuilder().setExit(ExitStatus.newBuilder().setCode(0)).build());
        });
        System.out.println(manager.socket);
        System.out.flush();
        System.in.read();
        manager.close();
    }
}
