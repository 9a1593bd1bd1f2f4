package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.FileIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Device-independent identity of the part of a file a mapping uses: size, mtime and the
 * SHA-256 of the mapped range, so a rebuild can tell whether it maps the same bytes.
 */
public final class FileIdentities {
    private FileIdentities() {}

    public static FileIdentity of(Path file, long offset, long length) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        long mtime = attrs.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
        return FileIdentity.newBuilder().setSize(attrs.size()).setMtimeNanos(mtime)
                .setSha256(com.google.protobuf.ByteString.copyFrom(sha256(file, offset, length))).build();
    }

    /** Why {@code file} no longer matches {@code expected}, or null when it does. */
    public static String mismatch(Path file, long offset, long length, FileIdentity expected) {
        try {
            FileIdentity now = of(file, offset, length);
            if (now.getSize() != expected.getSize()) {
                return file + " changed size (" + expected.getSize() + " -> " + now.getSize() + " bytes)";
            }
            if (!Arrays.equals(now.getSha256().toByteArray(), expected.getSha256().toByteArray())) {
                return file + " has different content in the mapped range";
            }
            return null;
        } catch (IOException e) {
            return file + " cannot be read: " + e.getMessage();
        }
    }

    static byte[] sha256(Path file, long offset, long length) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            long end = Math.min(ch.size(), offset + length);
            long pos = offset;
            while (pos < end) {
                buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
                int n = ch.read(buf, pos);
                if (n <= 0) {
                    break;
                }
                md.update(buf.array(), 0, n);
                pos += n;
            }
        }
        return md.digest();
    }
}
