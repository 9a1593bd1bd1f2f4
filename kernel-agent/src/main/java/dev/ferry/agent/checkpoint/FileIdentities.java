package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.Mapping;
import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

    /**
     * Hashing the mapped ranges of a program's libraries takes milliseconds, too long for a
     * migration's freeze: results are kept, keyed by file and range, and reused while the
     * file's inode, size, mtime and ctime stay the same (any write changes ctime). Pre-copy
     * warms this before the freeze ({@link #warm}).
     */
    private static final int CACHED = 512;
    private static final Map<String, Cached> CACHE = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > CACHED;
        }
    });

    private record Cached(Object inode, long size, long mtime, long ctime, FileIdentity identity) {}

    public static FileIdentity of(Path file, long offset, long length) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,ctime");
        long size = (Long) attrs.get("size");
        long mtime = ((FileTime) attrs.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
        long ctime = ((FileTime) attrs.get("ctime")).to(TimeUnit.NANOSECONDS);
        String key = file + "\0" + offset + "\0" + length;
        Cached c = CACHE.get(key);
        if (c != null && c.inode().equals(attrs.get("ino")) && c.size() == size && c.mtime() == mtime && c.ctime() == ctime) {
            return c.identity();
        }
        FileIdentity identity = FileIdentity.newBuilder().setSize(size).setMtimeNanos(mtime)
                .setSha256(com.google.protobuf.ByteString.copyFrom(sha256(file, offset, length))).build();
        CACHE.put(key, new Cached(attrs.get("ino"), size, mtime, ctime, identity));
        return identity;
    }

    /** Computes (and keeps) the identities of the file mappings among {@code mappings}; errors are left for later. */
    public static void warm(List<Mapping> mappings) {
        for (Mapping m : mappings) {
            if (!m.getPath().isEmpty() && m.getPath().startsWith("/") && !m.getContentCarried() && !m.getShared()) {
                try {
                    of(Path.of(m.getPath()), m.getOffset(), m.getEnd() - m.getStart());
                } catch (IOException | RuntimeException e) {
                    // a capture or verify at the freeze reports it
                }
            }
        }
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
