package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cli.LhostsArguments.Mode;
import dev.ferry.proto.v1.ControlAction;
import java.util.List;
import org.junit.jupiter.api.Test;

class LhostsArgumentsTest {
    private static LhostsArguments parse(String... args) throws UsageException {
        return LhostsArguments.parse(List.of(args));
    }

    @Test
    void listsAndHosts() throws Exception {
        assertEquals(Mode.LIST, parse().mode());
        assertTrue(parse("--json").json());
        assertEquals(Mode.HOSTS, parse("--hosts").mode());
        assertEquals(Mode.HOSTS, parse("--json", "--hosts").mode());
        assertTrue(parse("--hosts", "--json").json());
        assertEquals(Mode.HELP, parse("--help").mode());
    }

    @Test
    void controlActionsTakeOneOrMoreIds() throws Exception {
        LhostsArguments kill = parse("kill", "a1");
        assertEquals(Mode.CONTROL, kill.mode());
        assertEquals(ControlAction.KILL, kill.action());
        assertEquals(List.of("a1"), kill.lhIds());
        assertEquals(ControlAction.STOP, parse("stop", "a1", "b2").action());
        assertEquals(List.of("a1", "b2"), parse("cont", "a1", "b2").lhIds());
    }

    @Test
    void usageErrors() {
        assertThrows(UsageException.class, () -> parse("kill"));
        assertThrows(UsageException.class, () -> parse("frobnicate", "a1"));
        assertThrows(UsageException.class, () -> parse("--bogus"));
        assertThrows(UsageException.class, () -> parse("stop", "a1", "--json"));
        assertThrows(UsageException.class, () -> parse("--hosts", "kill", "a1"));
    }
}
