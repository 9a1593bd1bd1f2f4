package dev.ferry.pm.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TestFaultsTest {
    @Test
    void noneDropsNothing() {
        for (String spec : new String[] {"", "none", "drop-commit-reply:0"}) {
            TestFaults faults = TestFaults.parse(spec);
            assertFalse(faults.active(), spec);
            assertFalse(faults.dropCommitReply(), spec);
        }
    }

    @Test
    void dropsExactlyTheFirstNCommitReplies() {
        TestFaults faults = TestFaults.parse("drop-commit-reply:2");
        assertTrue(faults.active());
        assertEquals(List.of(true, true, false, false),
                List.of(faults.dropCommitReply(), faults.dropCommitReply(), faults.dropCommitReply(), faults.dropCommitReply()));
        assertEquals(2, faults.commitRepliesDropped());
        assertEquals("drop-commit-reply:2", faults.toString());
    }

    @Test
    void aBadSpecIsRefusedWithTheSyntax() {
        for (String spec : new String[] {"drop-commit-reply", "drop-commit-reply:x", "drop-commit-reply:-1", "kill-everything"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestFaults.parse(spec));
            assertTrue(e.getMessage().contains("drop-commit-reply:N"), e.getMessage());
        }
    }
}
