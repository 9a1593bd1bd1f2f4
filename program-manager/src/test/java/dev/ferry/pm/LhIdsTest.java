package dev.ferry.pm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LhIdsTest {
    @Test
    void idsAreLowercaseAlphanumericStartWithALetterAndDoNotRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = LhIds.next();
            assertTrue(id.matches("[a-z][a-z0-9]{9}"), id);
            seen.add(id);
        }
        assertEquals(10_000, seen.size());
    }
}
