package dev.ferry.pm.migrate;

import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.proto.v1.FileChunk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An image directory sent as chunks over the network and written back on the other side: the
 * destination rebuilds only from what arrives, never from the source's files.
 */
final class ImageFiles {
    static final int CHUNK = 1 << 20;
    /** Names an image may hold; anything else in a transfer is refused (no path tricks). */
    private static final Pattern NAME = Pattern.compile("lh\\.img|pages\\.idx|pages(\\.[0-9]+)?\\.bin");

    private ImageFiles() {}

    /** Sends every image file of {@code dir} as chunks, in order, lh.img last. */
    static long send(Path dir, Consumer<FileChunk> out) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .sorted((a, b) -> Boolean.compare(a.endsWith("lh.img"), b.endsWith("lh.img")))
                    .toList();
        }
        long total = 0;
        byte[] buf = new byte[CHUNK];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                long offset = 0;
                int n;
                while ((n = in.readNBytes(buf, 0, CHUNK)) > 0) {
                    out.accept(FileChunk.newBuilder().setName(f.getFileName().toString()).setOffset(offset)
                            .setData(UnsafeByteOperations.unsafeWrap(buf.clone(), 0, n)).build());
                    offset += n;
                    total += n;
                }
            }
        }
        return total;
    }

    /** Writes one received chunk into {@code dir}. */
    static void write(Path dir, FileChunk chunk) throws IOException {
        String name = chunk.getName();
        if (!NAME.matcher(name).matches()) {
            throw new IOException("unexpected file '" + name + "' in an LH transfer");
        }
        try (FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(chunk.getData().asReadOnlyByteBuffer(), chunk.getOffset());
        }
    }

    static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a leftover temporary directory under the state dir; harmless
        }
    }
}
