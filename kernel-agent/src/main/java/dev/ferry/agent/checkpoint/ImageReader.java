package dev.ferry.agent.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Loads an image directory written by {@link ImageWriter}, checking every byte it uses. The
 * metadata is parsed; the page data stays in the pages files, mapped read-only (see
 * {@link MappedPages}), so reading a 1 GiB image takes no heap.
 */
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
        return new CapturedLh(image, MappedPages.load(dir, index));
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
