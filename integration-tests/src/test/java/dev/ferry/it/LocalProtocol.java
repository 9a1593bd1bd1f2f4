package dev.ferry.it;

import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.ProgramSpec;
import dev.ferry.proto.v1.RunRequest;
import dev.ferry.proto.v1.ServerFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Speaks the commands' local protocol (length-delimited protobuf over the manager's Unix socket)
 * directly, to send what no well-behaved command would: a request bigger than execve even
 * allows a command line to be.
 */
final class LocalProtocol {
  private LocalProtocol() {}

  /**
   * Sends a RunRequest whose argv totals {@code bytes} and returns the manager's first reply
   * frame, or null if it closed the connection without one.
   */
  static ServerFrame sendOversizedRun(Path socket, int bytes)
      throws IOException, InterruptedException, ExecutionException, TimeoutException {
    ProgramSpec.Builder spec = ProgramSpec.newBuilder().setCwd("/").setUmask(022)
        .addArgv("/bin/true");
    String megabyte = "x".repeat(1 << 20);
    for (int sent = 0; sent < bytes; sent += megabyte.length()) {
      spec.addArgv(megabyte);
    }
    ByteArrayOutputStream encoded = new ByteArrayOutputStream(bytes + 1024);
    LocalRequest.newBuilder().setRun(RunRequest.newBuilder().setSpec(spec).setDestination("h2"))
        .build().writeDelimitedTo(encoded);
    ByteBuffer request = ByteBuffer.wrap(encoded.toByteArray());
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      // The manager may answer and close before reading everything: write on the side. A
      // SocketChannel reads and writes concurrently (Channels' streams would share one lock).
      Future<?> written = writer.submit(() -> {
        try {
          while (request.hasRemaining()) {
            channel.write(request);
          }
        } catch (IOException e) {
          // Refused before the end: expected.
        }
      });
      ServerFrame reply = readWithin(channel, 30);
      written.cancel(true);
      return reply;
    } finally {
      writer.shutdownNow();
      writer.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static ServerFrame readWithin(SocketChannel channel, int seconds)
      throws InterruptedException, ExecutionException, TimeoutException {
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Future<ServerFrame> reply = reader.submit(() -> ServerFrame.parseDelimitedFrom(in(channel)));
      try {
        return reply.get(seconds, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new TimeoutException("no reply and no close within " + seconds + " s");
      }
    } finally {
      reader.shutdownNow();
    }
  }

  private static InputStream in(SocketChannel channel) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] buffer, int offset, int length) throws IOException {
        return channel.read(ByteBuffer.wrap(buffer, offset, length));
      }
    };
  }
}
