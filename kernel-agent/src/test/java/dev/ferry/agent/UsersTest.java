package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class UsersTest {
    @Test
    void looksUpUsersByNameAndUid() {
        Credentials root = Users.byName("root");
        assertEquals(0, root.uid());
        assertEquals(0, root.gid());
        assertTrue(Arrays.stream(root.groups()).anyMatch(g -> g == 0), Arrays.toString(root.groups()));
        assertEquals(root, Users.byUid(0));
        assertEquals("nobody", Users.byUid(65534).user());
    }

    @Test
    void looksUpGroupIdsByName() {
        assertEquals(java.util.OptionalInt.of(0), Users.groupId("root"));
        assertEquals(java.util.OptionalInt.empty(), Users.groupId("no-such-group-ferry"));
    }

    @Test
    void unknownUsersAreRefused() {
        assertThrows(NoSuchElementException.class, () -> Users.byName("no-such-user-ferry"));
        assertThrows(NoSuchElementException.class, () -> Users.byUid(0x7ffffff0));
    }

    @Test
    void signallingAProcessThatIsGoneIsNotAnError() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        Signals.kill((int) p.pid(), Signals.SIGTERM);   // reaped: ESRCH is ignored
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        Signals.kill((int) sleeper.pid(), Signals.SIGKILL);
        assertEquals(128 + 9, sleeper.waitFor());
    }
}
