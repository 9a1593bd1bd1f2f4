package dev.ferry.pm.local;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.ErrorCode;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Length-delimited protobuf frames on a local connection, with a size limit on what is read. */
final class LocalFrames {
    /** Largest frame a command may send: argv + environment stay far below it. */
    static final int MAX_FRAME = 8 << 20;

    private final InputStream in;
    private final OutputStream out;

    LocalFrames(InputStream in, OutputStream out) {
        // Buffered: a 64 KiB stdin frame would otherwise cost a dozen small socket reads.
        this.in = new java.io.BufferedInputStream(in, 64 * 1024);
        this.out = new BufferedOutputStream(out, 64 * 1024);
    }

    /** The next frame, or null at end of stream. */
    <T> T read(Parser<T> parser) throws IOException, FerryException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        int size = CodedInputStream.readRawVarint32(first, in);
        if (size < 0 || size > MAX_FRAME) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT,
                    "request of %d bytes is larger than the limit of %d bytes", size, MAX_FRAME);
        }
        byte[] body = in.readNBytes(size);
        if (body.length != size) {
            throw new EOFException("connection closed inside a frame");
        }
        try {
            return parser.parseFrom(body);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "malformed request: %s", e.getMessage());
        }
    }

    synchronized void write(MessageLite msg) throws IOException {
        msg.writeDelimitedTo(out);
        out.flush();
    }
}
