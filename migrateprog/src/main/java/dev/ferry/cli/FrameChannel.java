package dev.ferry.cli;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Length-delimited protobuf messages over one connected socket channel.
 *
 * <p>Reading and writing may happen on different threads at the same time: the JDK 17 stream
 * adapters from {@code Channels} take one lock for both directions (a reader blocked in
 * {@code read} would stall every writer), so this class talks to the channel itself, whose
 * read and write paths have separate locks. Writers are serialized here so frames never
 * interleave.
 */
public final class FrameChannel implements Closeable {
    private final SocketChannel channel;
    private final InputStream in;
    private final Object writeLock = new Object();

    public FrameChannel(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedInputStream(new ChannelInputStream(channel), 1 << 16);
    }

    /** Sends one message as a varint length followed by its bytes, in a single write call. */
    public void send(MessageLite message) throws IOException {
        int size = message.getSerializedSize();
        byte[] frame = new byte[CodedOutputStream.computeUInt32SizeNoTag(size) + size];
        CodedOutputStream out = CodedOutputStream.newInstance(frame);
        out.writeUInt32NoTag(size);
        message.writeTo(out);
        out.checkNoSpaceLeft();
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        synchronized (writeLock) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    /**
     * Reads the next message.
     *
     * @throws EOFException when the peer closed the connection between messages
     */
    public <T extends MessageLite> T receive(Parser<T> parser) throws IOException {
        T message;
        try {
            message = parser.parseDelimitedFrom(in);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // protobuf wraps a failed read (connection reset) as "invalid": give the real cause back.
            IOException cause = e.unwrapIOException();
            throw cause != e ? cause : e;
        }
        if (message == null) {
            throw new EOFException("connection closed");
        }
        return message;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** An InputStream that reads straight from the channel (never through the JDK adapter). */
    private static final class ChannelInputStream extends InputStream {
        private final SocketChannel channel;

        ChannelInputStream(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            int n;
            do {
                n = channel.read(ByteBuffer.wrap(buffer, offset, length));
            } while (n == 0);
            return n;
        }
    }
}
