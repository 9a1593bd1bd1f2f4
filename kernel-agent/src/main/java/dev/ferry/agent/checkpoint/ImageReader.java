package dev.ferry.agent.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/** Loads an image directory written by {@link ImageWriter}, checking every byte it uses. */
public final class ImageReader {
    private ImageReader() {}

    public static CapturedLh read(Path dir) throws IOException, ImageFormatException {
        LhImage image;
        PageIndex index;
        try {
            image = LhImage.parseFrom(framed(dir.resolve(ImageWriter.LH), ImageWriter.KIND_LH));
            index = PageIndex.parseFrom(framed(dir.resolve(ImageWriter.INDEX), ImageWriter.KIND_INDEX));
        } catch (InvalidProtocolBufferException e) {
            throw new ImageFormatException(dir + ": corrupted image metadata: " + e.getMessage());
        }
        if (image.getFormatVersion() != ImageWriter.VERSION) {
            throw new ImageFormatException(dir + ": image format version " + image.getFormatVersion() + ", this agent reads "
                    + ImageWriter.VERSION);
        }
        Path pagesFile = dir.resolve(ImageWriter.PAGES);
        List<PageBatch> pages = new ArrayList<>(index.getBatchesCount());
        try (FileChannel ch = FileChannel.open(pagesFile, StandardOpenOption.READ)) {
            if (ch.size() != index.getPagesFileLength()) {
                throw new ImageFormatException(pagesFile + " is truncated or padded: " + ch.size() + " bytes, the index says "
                        + index.getPagesFileLength());
            }
            for (PageBatch entry : index.getBatchesList()) {
                if (entry.getDataLength() == 0) {
                    pages.add(entry);
                    continue;
                }
                if (entry.getDataLength() > Integer.MAX_VALUE || entry.getDataOffset() + entry.getDataLength() > ch.size()) {
                    throw new ImageFormatException(pagesFile + ": a batch lies outside the file");
                }
                byte[] data = new byte[(int) entry.getDataLength()];
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, entry.getDataOffset() + buf.position()) < 0) {
                        throw new ImageFormatException(pagesFile + " is truncated");
                    }
                }
                CRC32C crc = new CRC32C();
                crc.update(data);
                if ((int) crc.getValue() != entry.getCrc32C()) {
                    throw new ImageFormatException(pagesFile + " is corrupted: the pages at 0x"
                            + Long.toHexString(entry.getAddress()) + " fail their checksum");
                }
                pages.add(entry.toBuilder().setData(UnsafeByteOperations.unsafeWrap(data)).clearDataOffset()
                        .clearDataLength().clearCrc32C().build());
            }
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(dir + " is not a complete Ferry image: " + pagesFile.getFileName() + " is missing");
        }
        return new CapturedLh(image, pages);
    }

    private static byte[] framed(Path file, int kind) throws IOException, ImageFormatException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(file.getParent() + " is not a Ferry image: " + file.getFileName() + " is missing");
        }
        if (all.length < 28 || !Arrays.equals(Arrays.copyOf(all, 8), ImageWriter.MAGIC)) {
            throw new ImageFormatException(file + " is not a Ferry image file");
        }
        ByteBuffer h = ByteBuffer.wrap(all, 8, 16);
        int version = h.getInt();
        int actualKind = h.getInt();
        long length = h.getLong();
        int crc = ByteBuffer.wrap(all, 24, 4).getInt();
        if (version != ImageWriter.VERSION) {
            throw new ImageFormatException(file + ": image format version " + version + ", this agent reads " + ImageWriter.VERSION);
        }
        if (actualKind != kind) {
            throw new ImageFormatException(file + " holds the wrong kind of record (" + actualKind + ")");
        }
        if (all.length - 28 != length) {
            throw new ImageFormatException(file + " is truncated: " + (all.length - 28) + " of " + length + " bytes");
        }
        CRC32C c = new CRC32C();
        c.update(all, 28, (int) length);
        if ((int) c.getValue() != crc) {
            throw new ImageFormatException(file + " is corrupted (checksum mismatch)");
        }
        return Arrays.copyOfRange(all, 28, all.length);
    }
}
