package dev.ferry.pm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationArgTest {
    @Test
    void unitsAndBareSeconds() {
        assertEquals(Duration.ofMillis(250), DurationArg.parse("250ms"));
        assertEquals(Duration.ofSeconds(3), DurationArg.parse("3s"));
        assertEquals(Duration.ofMillis(1500), DurationArg.parse("1.5s"));
        assertEquals(Duration.ofMinutes(5), DurationArg.parse("5m"));
        assertEquals(Duration.ofHours(1), DurationArg.parse("1h"));
        assertEquals(Duration.ofSeconds(7), DurationArg.parse("7"));
    }

    @Test
    void refusesWhatIsNotADuration() {
        for (String bad : new String[] {"", "-3s", "3 days", "s", "1e3"}) {
            assertThrows(CommandLine.TypeConversionException.class, () -> DurationArg.parse(bad), bad);
        }
    }
}
