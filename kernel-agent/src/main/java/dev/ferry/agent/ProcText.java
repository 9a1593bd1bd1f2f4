package dev.ferry.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a /proc or /sys file whole. Files.readString is not safe there: for a file that
 * reports size 0 it reads one byte first, and sysctl files (/proc/sys/...) answer every read
 * that does not start at offset 0 with end of file, so it returns "1" for "1048576".
 */
final class ProcText {
    private ProcText() {}

    static String read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {   // NoSuchFileException when gone
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[16384];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
