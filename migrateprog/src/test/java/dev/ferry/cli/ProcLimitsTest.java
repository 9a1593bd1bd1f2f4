package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.proto.v1.Rlimit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcLimitsTest {
    static final String FIXTURE = """
            Limit                     Soft Limit           Hard Limit           Units    \s
            Max cpu time              unlimited            unlimited            seconds  \s
            Max file size             unlimited            unlimited            bytes    \s
            Max data size             unlimited            unlimited            bytes    \s
            Max stack size            8388608              unlimited            bytes    \s
            Max core file size        0                    unlimited            bytes    \s
            Max resident set          unlimited            unlimited            bytes    \s
            Max processes             7619                 7619                 processes\s
            Max open files            1024                 524288               files    \s
            Max locked memory         8388608              8388608              bytes    \s
            Max address space         unlimited            unlimited            bytes    \s
            Max file locks            unlimited            unlimited            locks    \s
            Max pending signals       7619                 7619                 signals  \s
            Max msgqueue size         819200               819200               bytes    \s
            Max nice priority         0                    0                    \s
            Max realtime priority     0                    0                    \s
            Max realtime timeout      unlimited            unlimited            us       \s
            """;

    @Test
    void parsesEveryLimitWithItsResourceNumber() {
        List<Rlimit> limits = ProcLimits.parse(FIXTURE);
        assertEquals(16, limits.size());
        for (int i = 0; i < 16; i++) {
            assertEquals(i, limits.get(i).getResource());
        }
        assertEquals(8388608, limits.get(3).getSoft());
        assertEquals(ProcLimits.UNLIMITED, limits.get(3).getHard());
        assertEquals(1024, limits.get(7).getSoft());
        assertEquals(524288, limits.get(7).getHard());
        assertEquals(0, limits.get(13).getSoft());
        assertEquals("18446744073709551615", Long.toUnsignedString(limits.get(0).getSoft()));
    }

    @Test
    void skipsUnknownLimitsAndKeepsResourceOrder() {
        String text = """
                Limit                     Soft Limit           Hard Limit           Units
                Max open files            64                   128                  files
                Max future thing          1                    2                    things
                Max cpu time              10                   20                   seconds
                """;
        List<Rlimit> limits = ProcLimits.parse(text);
        assertEquals(2, limits.size());
        assertEquals(0, limits.get(0).getResource());
        assertEquals(20, limits.get(0).getHard());
        assertEquals(7, limits.get(1).getResource());
        assertEquals(64, limits.get(1).getSoft());
    }

    @Test
    void readsThisProcessLimits() throws Exception {
        List<Rlimit> limits = ProcLimits.parse(Files.readString(Path.of("/proc/self/limits")));
        assertEquals(16, limits.size());
    }
}
