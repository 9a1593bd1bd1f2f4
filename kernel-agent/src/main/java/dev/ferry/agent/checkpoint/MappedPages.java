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
 * The page batches of an image, their data wrapping read-only mappings of its pages files: the
 * rebuild writes them into the new process straight from the page cache (one copy, by the
 * kernel). Every batch's CRC32C is checked here, before anything is created, so a corrupted
 * image is refused whole. The mapping goes away with the last batch that refers to it.
 */
final class MappedPages {
    /** Regions overlap by more than a batch, so each batch lies inside one region. */
    private static final long REGION = 1L << 30, OVERLAP = 4L << 20;

    private MappedPages() {}

    /**
     * Checks every batch's CRC32C, the two halves on two threads: reading the image is mostly
     * the page faults of its mapping, and those scale with cores.
     */
    private static void checkAll(Path dir, List<PageBatch> entries, List<ByteBuffer> data) throws ImageFormatException {
        int half = entries.size() / 2;
        java.util.concurrent.CompletableFuture<String> second = new java.util.concurrent.CompletableFuture<>();
        Thread helper = new Thread(() -> second.complete(firstBad(entries, data, half, entries.size())), "ferry-image-check");
        helper.setDaemon(true);
        helper.start();
        String bad = firstBad(entries, data, 0, half);
        String other = second.join();
        if (bad != null || other != null) {
            throw new ImageFormatException(dir + ": the image is corrupted: the pages at 0x" + (bad != null ? bad : other)
                    + " fail their checksum");
        }
    }

    /** The address (hex) of the first batch in [from, to) whose data fails its checksum, or null. */
    private static String firstBad(List<PageBatch> entries, List<ByteBuffer> data, int from, int to) {
        CRC32C crc = new CRC32C();
        for (int i = from; i < to; i++) {
            if (data.get(i) == null) {
                continue;
            }
            crc.reset();
            crc.update(data.get(i).duplicate());
            if ((int) crc.getValue() != entries.get(i).getCrc32C()) {
                return Long.toHexString(entries.get(i).getAddress());
            }
        }
        return null;
    }

    static List<PageBatch> load(Path dir, PageIndex index) throws IOException, ImageFormatException {
        long total = 0;
        for (long length : index.getPagesFileLengthsList()) {
            total += length;
        }
        if (total != index.getPagesFileLength()) {
            throw new ImageFormatException(dir + ": corrupted page index (file lengths do not add up)");
        }
        List<List<MappedByteBuffer>> files = new ArrayList<>();
        for (int n = 0; n < index.getPagesFileLengthsCount(); n++) {
            files.add(map(dir.resolve(ImageWriter.pagesFile(n)), index.getPagesFileLengths(n)));
        }
        List<ByteBuffer> data = new ArrayList<>(index.getBatchesCount());
        for (PageBatch entry : index.getBatchesList()) {
            long off = entry.getDataOffset(), len = entry.getDataLength();
            if (len == 0) {
                data.add(null);
                continue;
            }
            int file = entry.getDataFile();
            if (file >= files.size() || len > OVERLAP || off < 0 || off + len > index.getPagesFileLengths(file)) {
                throw new ImageFormatException(dir + ": a batch of the page index lies outside its pages file");
            }
            data.add(files.get(file).get((int) (off / REGION)).slice((int) (off % REGION), (int) len));
        }
        checkAll(dir, index.getBatchesList(), data);
        List<PageBatch> pages = new ArrayList<>(index.getBatchesCount());
        for (int i = 0; i < data.size(); i++) {
            PageBatch entry = index.getBatches(i);
            pages.add(data.get(i) == null ? entry : entry.toBuilder().setData(UnsafeByteOperations.unsafeWrap(data.get(i)))
                    .clearDataFile().clearDataOffset().clearDataLength().clearCrc32C().build());
        }
        return pages;
    }

    /** Maps a pages file read-only in overlapping regions, after checking its length. */
    private static List<MappedByteBuffer> map(Path file, long expected) throws IOException, ImageFormatException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size != expected) {
                throw new ImageFormatException(file + " is truncated or padded: " + size + " bytes, the index says " + expected);
            }
            List<MappedByteBuffer> regions = new ArrayList<>();
            for (long at = 0; at < size; at += REGION) {
                regions.add(ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(size - at, REGION + OVERLAP)));
            }
            return regions;
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(file.getParent() + " is not a complete Ferry image: " + file.getFileName() + " is missing");
        }
    }
}
