package dev.ferry.agent.checkpoint;

import com.google.protobuf.MessageLite;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageIndex;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes a {@link CapturedLh} to a directory. The image format (version {@link #VERSION}):
 *
 * <pre>
 *   lh.img     header + LhImage (protobuf): the metadata of every process
 *   pages.idx  header + PageIndex (protobuf): one PageBatch per run of pages, without data;
 *              data batches give data_file/data_offset/data_length and the CRC32C of the
 *              bytes, zero batches only a page count; pages_file_lengths the size of each file
 *   pages.bin, pages.1.bin, ...
 *              the page data of the data batches, runs dealt to the files in turn (one file
 *              per core writing the image, see PageFileWriter), back to back in index order
 *
 *   header = "FERRYIMG" (8 bytes) | u32 format version | u32 kind (1 lh.img, 2 pages.idx)
 *            | u64 payload length | u32 CRC32C of the payload          (big-endian, 28 bytes)
 * </pre>
 *
 * Files are written under temporary names, forced to disk when asked, then renamed, lh.img
 * last (an old lh.img is removed first), so a directory holding lh.img is complete. Page data
 * streams to pages.bin while the program is captured ({@link ProcessCapture#captureTo}). {@link ImageReader} detects a foreign,
 * truncated, corrupted or other-version image.
 */
public final class ImageWriter {
    public static final int VERSION = 3;   // 2: private pipes, carried devices; 3: threads, process trees, shared open files
    static final byte[] MAGIC = {'F', 'E', 'R', 'R', 'Y', 'I', 'M', 'G'};
    static final int KIND_LH = 1, KIND_INDEX = 2;
    static final String LH = "lh.img", INDEX = "pages.idx";
    private static final java.util.regex.Pattern PAGES_FILE = java.util.regex.Pattern.compile("pages(\\.[0-9]+)?\\.bin");

    private ImageWriter() {}

    /** Saves an in-memory capture; page data is written from where it lies (no heap copy). */
    public static void write(CapturedLh captured, Path dir, boolean fsync) throws IOException {
        begin(dir);
        try (PageFileWriter pages = new PageFileWriter(dir, fsync)) {
            for (PageBatch b : captured.pages()) {
                pages.add(b);
            }
            commit(dir, captured.image(), pages.finish(), fsync);
        }
    }

    /** The name of pages file {@code n}: pages.bin, pages.1.bin, pages.2.bin, ... */
    static String pagesFile(int n) {
        return n == 0 ? "pages.bin" : "pages." + n + ".bin";
    }

    /**
     * Prepares {@code dir} for a new image: an old lh.img goes first, so the directory is never
     * a mix of two images, then old pages files (an older image may have had more of them).
     */
    static void begin(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve(LH));
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (PAGES_FILE.matcher(f.getFileName().toString()).matches()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** Writes the index and the metadata, then renames the pages files, index and (last) lh.img into place. */
    static void commit(Path dir, LhImage image, PageIndex index, boolean fsync) throws IOException {
        Path indexTmp = writeFramed(dir.resolve(INDEX + ".tmp"), KIND_INDEX, index, fsync);
        Path lhTmp = writeFramed(dir.resolve(LH + ".tmp"), KIND_LH, image, fsync);
        for (int n = 0; n < index.getPagesFileLengthsCount(); n++) {
            Files.move(dir.resolve(pagesFile(n) + ".tmp"), dir.resolve(pagesFile(n)), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(indexTmp, dir.resolve(INDEX), StandardCopyOption.REPLACE_EXISTING);
        Files.move(lhTmp, dir.resolve(LH), StandardCopyOption.REPLACE_EXISTING);
        if (fsync) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);   // the renames themselves
            }
        }
    }

    private static Path writeFramed(Path file, int kind, MessageLite message, boolean fsync) throws IOException {
        byte[] payload = message.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(payload);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            OutputStream raw = Channels.newOutputStream(ch);
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw));
            out.write(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(kind);
            out.writeLong(payload.length);
            out.writeInt((int) crc.getValue());
            out.write(payload);
            out.flush();
            if (fsync) {
                ch.force(true);
            }
        }
        return file;
    }
}
