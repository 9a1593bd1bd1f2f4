package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageIndex;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes a {@link CapturedLh} to a directory. The image format (version {@link #VERSION}):
 *
 * <pre>
 *   lh.img     header + LhImage (protobuf): the metadata of every process
 *   pages.idx  header + PageIndex (protobuf): one PageBatch per run of pages, without data;
 *              data batches give data_offset/data_length into pages.bin and the CRC32C of
 *              the bytes, zero batches only a page count
 *   pages.bin  the page data of every data batch, back to back, in index order
 *
 *   header = "FERRYIMG" (8 bytes) | u32 format version | u32 kind (1 lh.img, 2 pages.idx)
 *            | u64 payload length | u32 CRC32C of the payload          (big-endian, 28 bytes)
 * </pre>
 *
 * Files are written under temporary names, forced to disk when asked, then renamed, lh.img
 * last, so a directory holding lh.img is complete. {@link ImageReader} detects a foreign,
 * truncated, corrupted or other-version image.
 */
public final class ImageWriter {
    public static final int VERSION = 1;
    static final byte[] MAGIC = {'F', 'E', 'R', 'R', 'Y', 'I', 'M', 'G'};
    static final int KIND_LH = 1, KIND_INDEX = 2;
    static final String LH = "lh.img", INDEX = "pages.idx", PAGES = "pages.bin";

    private ImageWriter() {}

    public static void write(CapturedLh captured, Path dir, boolean fsync) throws IOException {
        Files.createDirectories(dir);
        PageIndex.Builder index = PageIndex.newBuilder().setFormatVersion(VERSION);
        Path pagesTmp = dir.resolve(PAGES + ".tmp");
        long offset = 0;
        try (FileChannel ch = FileChannel.open(pagesTmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (PageBatch b : captured.pages()) {
                PageBatch.Builder entry = b.toBuilder().clearData();
                ByteString data = b.getData();
                if (!data.isEmpty()) {
                    CRC32C crc = new CRC32C();
                    for (java.nio.ByteBuffer bb : data.asReadOnlyByteBufferList()) {
                        crc.update(bb.duplicate());
                        while (bb.hasRemaining()) {
                            ch.write(bb);
                        }
                    }
                    entry.setDataOffset(offset).setDataLength(data.size()).setCrc32C((int) crc.getValue());
                    offset += data.size();
                }
                index.addBatches(entry);
            }
            if (fsync) {
                ch.force(true);
            }
        }
        index.setPagesFileLength(offset);
        Path indexTmp = writeFramed(dir.resolve(INDEX + ".tmp"), KIND_INDEX, index.build(), fsync);
        Path lhTmp = writeFramed(dir.resolve(LH + ".tmp"), KIND_LH, captured.image(), fsync);
        Files.move(pagesTmp, dir.resolve(PAGES), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(indexTmp, dir.resolve(INDEX), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(lhTmp, dir.resolve(LH), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
