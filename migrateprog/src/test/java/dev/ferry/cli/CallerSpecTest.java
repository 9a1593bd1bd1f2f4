package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallerSpecTest {
    @Test
    void environmentKeepsOrderAndDropsFerryCallerVariables() {
        byte[] environ = ("B=2\0FERRY_CALLER_LIMITS=Limit x\nMax y\0A=1\0FERRY_CALLER_ENV_JAVA_TOOL_OPTIONS=-Xmx1g\0"
                + "EMPTY=\0MULTI=a\nb\0").getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of("B=2", "A=1", "JAVA_TOOL_OPTIONS=-Xmx1g", "EMPTY=", "MULTI=a\nb"),
                CallerSpec.environment(environ));
    }

    @Test
    void environmentDecodesUtf8() {
        byte[] environ = "NAME=Zoë\0".getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of("NAME=Zoë"), CallerSpec.environment(environ));
    }

    @Test
    void umaskIsOctalFromStatus() {
        assertEquals(022, CallerSpec.umask("Name:\tjava\nUmask:\t0022\nState:\tR (running)\n"));
        assertEquals(077, CallerSpec.umask("Umask:\t0077\n"));
    }

    @Test
    void logicalPwdIsKeptWhenItNamesTheSameDirectory(@TempDir Path dir) throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        assertEquals(link.toString(), CallerSpec.workingDirectory(link.toString(), real.toString()));
        assertEquals(real.toString(), CallerSpec.workingDirectory(dir.toString(), real.toString()));
        assertEquals(real.toString(), CallerSpec.workingDirectory(null, real.toString()));
        assertEquals(real.toString(), CallerSpec.workingDirectory(dir.resolve("gone").toString(), real.toString()));
        assertEquals(real.toString(), CallerSpec.workingDirectory("relative", real.toString()));
    }
}
