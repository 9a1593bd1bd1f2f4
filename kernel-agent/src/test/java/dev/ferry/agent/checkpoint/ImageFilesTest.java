package dev.ferry.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.ProcessImage;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    @TempDir
    Path dir;

    static CapturedLh sample() {
        byte[] data = new byte[3 * 4096];
        new Random(7).nextBytes(data);
        LhImage image = LhImage.newBuilder().setFormatVersion(ImageWriter.VERSION).setLhId("42")
                .addProcesses(ProcessImage.newBuilder().setPid(2).setComm("sample")).build();
        return new CapturedLh(image, List.of(
                PageBatch.newBuilder().setPid(2).setAddress(0x10000).setData(ByteString.copyFrom(data)).build(),
                PageBatch.newBuilder().setPid(2).setAddress(0x20000).setZeroPages(5).build(),
                PageBatch.newBuilder().setPid(2).setAddress(0x30000).setData(ByteString.copyFrom(data, 0, 4096)).build()));
    }

    @Test
    void roundTrip() throws Exception {
        CapturedLh in = sample();
        ImageWriter.write(in, dir, true);
        CapturedLh out = ImageReader.read(dir);
        assertEquals(in.image(), out.image());
        assertEquals(in.pages(), out.pages());
        long files = Files.size(dir.resolve("pages.bin")) + (Files.exists(dir.resolve("pages.1.bin")) ? Files.size(dir.resolve("pages.1.bin")) : 0);
        assertEquals(4 * 4096, files, "only data pages are stored");
    }

    @Test
    void aMissingPagesFileIsDetectedAndStaleOnesAreReplaced() throws Exception {
        Files.writeString(dir.resolve("pages.7.bin"), "left from an older image");
        ImageWriter.write(sample(), dir, false);
        assertTrue(!Files.exists(dir.resolve("pages.7.bin")), "stale pages files go");
        if (PageFileWriter.FILES > 1) {
            Files.delete(dir.resolve("pages.1.bin"));
            assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage()
                    .contains("pages.1.bin is missing"));
        }
    }

    @Test
    void corruptedPagesAreDetected() throws Exception {
        ImageWriter.write(sample(), dir, false);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("pages.bin").toFile(), "rw")) {
            f.seek(5000);
            int b = f.read();
            f.seek(5000);
            f.write(b ^ 1);
        }
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> ImageReader.read(dir));
        assertTrue(e.getMessage().contains("corrupted") && e.getMessage().contains("0x10000"), e.getMessage());
    }

    @Test
    void truncatedFilesAreDetected() throws Exception {
        ImageWriter.write(sample(), dir, false);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("pages.bin").toFile(), "rw")) {
            f.setLength(4096);
        }
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage().contains("truncated"));
        ImageWriter.write(sample(), dir, false);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("lh.img").toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage().contains("truncated"));
    }

    @Test
    void corruptedMetadataIsDetected() throws Exception {
        ImageWriter.write(sample(), dir, false);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("lh.img").toFile(), "rw")) {
            f.seek(f.length() - 2);
            int b = f.read();
            f.seek(f.length() - 2);
            f.write(b ^ 0x40);
        }
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage().contains("corrupted"));
    }

    @Test
    void foreignAndMissingImagesAreRefused() throws Exception {
        Files.writeString(dir.resolve("lh.img"), "#!/bin/sh\necho not an image, but long enough to have a header\n");
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage().contains("not a Ferry image"));
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(empty)).getMessage().contains("missing"));
    }

    @Test
    void otherVersionsAreRefused() throws Exception {
        CapturedLh s = sample();
        ImageWriter.write(new CapturedLh(s.image().toBuilder().setFormatVersion(99).build(), s.pages()), dir, false);
        assertTrue(assertThrows(ImageFormatException.class, () -> ImageReader.read(dir)).getMessage().contains("version 99"));
    }
}
