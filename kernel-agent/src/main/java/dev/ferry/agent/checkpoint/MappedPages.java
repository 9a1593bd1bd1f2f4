package dev.ferry.agent.checkpoint;

import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The page batches of an image, their data wrapping a read-only mapping of pages.bin: the
 * rebuild writes them into the new process straight from the page cache (one copy, by the
 * kernel). Every batch's CRC32C is checked here, before anything is created, so a corrupted
 * image is refused whole. The mapping goes away with the last batch that refers to it.
 */
final class MappedPages {
    /** Regions overlap by more than a batch, so each batch lies inside one region. */
    private static final long REGION = 1L << 30, OVERLAP = 4L << 20;

    private MappedPages() {}

    static List<PageBatch> load(Path pagesFile, PageIndex index) throws IOException, ImageFormatException {
        List<PageBatch> pages = new ArrayList<>(index.getBatchesCount());
        try (FileChannel ch = FileChannel.open(pagesFile, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size != index.getPagesFileLength()) {
                throw new ImageFormatException(pagesFile + " is truncated or padded: " + size + " bytes, the index says "
                        + index.getPagesFileLength());
            }
            List<MappedByteBuffer> regions = new ArrayList<>();
            for (long at = 0; at < size; at += REGION) {
                regions.add(ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(size - at, REGION + OVERLAP)));
            }
            CRC32C crc = new CRC32C();
            for (PageBatch entry : index.getBatchesList()) {
                if (entry.getDataLength() == 0) {
                    pages.add(entry);
                    continue;
                }
                long off = entry.getDataOffset(), len = entry.getDataLength();
                if (len > OVERLAP || off < 0 || off + len > size) {
                    throw new ImageFormatException(pagesFile + ": a batch lies outside the file");
                }
                ByteBuffer data = regions.get((int) (off / REGION)).slice((int) (off % REGION), (int) len);
                crc.reset();
                crc.update(data.duplicate());
                if ((int) crc.getValue() != entry.getCrc32C()) {
                    throw new ImageFormatException(pagesFile + " is corrupted: the pages at 0x"
                            + Long.toHexString(entry.getAddress()) + " fail their checksum");
                }
                pages.add(entry.toBuilder().setData(UnsafeByteOperations.unsafeWrap(data)).clearDataOffset()
                        .clearDataLength().clearCrc32C().build());
            }
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(pagesFile.getParent() + " is not a complete Ferry image: " + pagesFile.getFileName()
                    + " is missing");
        }
        return pages;
    }
}
