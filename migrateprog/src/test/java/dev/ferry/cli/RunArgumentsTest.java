package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunArgumentsTest {
    private static RunArguments parse(String... args) throws UsageException {
        return RunArguments.parse(List.of(args));
    }

    @Test
    void noAtRunsOnThisHost() throws Exception {
        RunArguments a = parse("ls", "-l", "/tmp");
        assertEquals(List.of("ls", "-l", "/tmp"), a.argv());
        assertEquals("", a.destination());
        assertFalse(a.verbose());
    }

    @Test
    void standaloneAtNamesTheHost() throws Exception {
        RunArguments a = parse("sh", "-c", "echo hi", "@", "h2");
        assertEquals(List.of("sh", "-c", "echo hi"), a.argv());
        assertEquals("h2", a.destination());
    }

    @Test
    void quotedStarAndAtAnyMeanAnyHost() throws Exception {
        assertEquals("*", parse("true", "@", "*").destination());
        assertEquals("*", parse("true", "@any").destination());
        assertEquals("*", parse("true", "@*").destination());
        assertEquals("*", parse("true", "@", "any").destination(), "@ any is @any");
    }

    @Test
    void attachedAtHostIsAcceptedAsLastWord() throws Exception {
        RunArguments a = parse("cat", "@h2");
        assertEquals(List.of("cat"), a.argv());
        assertEquals("h2", a.destination());
    }

    @Test
    void lastStandaloneAtWinsAndEarlierOnesBelongToTheProgram() throws Exception {
        RunArguments a = parse("grep", "@", "f1", "@h9", "@", "h2");
        assertEquals(List.of("grep", "@", "f1", "@h9"), a.argv());
        assertEquals("h2", a.destination());
    }

    @Test
    void emptyHostAfterAtRunsLocallyWithAtWordsKept() throws Exception {
        RunArguments a = parse("echo", "@user", "@", "");
        assertEquals(List.of("echo", "@user"), a.argv());
        assertEquals("", a.destination());
    }

    @Test
    void atWordInsideArgumentsIsNotADestination() throws Exception {
        RunArguments a = parse("echo", "@h2", "x");
        assertEquals(List.of("echo", "@h2", "x"), a.argv());
        assertEquals("", a.destination());
    }

    @Test
    void shellExpandedStarIsReportedWithTheQuotingHint() {
        UsageException e = assertThrows(UsageException.class, () -> parse("true", "@", "a.txt", "b.txt"));
        assertEquals("'@ *' was expanded by your shell; quote it: @ '*' (or use @any)", e.getMessage());
    }

    @Test
    void atWithoutHostOrProgramIsAUsageError() {
        assertThrows(UsageException.class, () -> parse("true", "@"));
        assertThrows(UsageException.class, () -> parse("@", "h2"));
        assertThrows(UsageException.class, () -> parse("@h2"));
        assertThrows(UsageException.class, () -> parse());
        assertThrows(UsageException.class, () -> parse("-v"));
    }

    @Test
    void optionsAreReadOnlyBeforeTheProgram() throws Exception {
        RunArguments a = parse("-v", "ls", "-v", "--help", "@", "h2");
        assertTrue(a.verbose());
        assertEquals(List.of("ls", "-v", "--help"), a.argv());
        assertTrue(parse("--verbose", "ls").verbose());
        assertTrue(parse("--help", "ls").help());
        assertTrue(parse("--version").version());
        assertThrows(UsageException.class, () -> parse("-x", "ls"));
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        RunArguments a = parse("-v", "--", "-weird-name", "arg");
        assertTrue(a.verbose());
        assertEquals(List.of("-weird-name", "arg"), a.argv());
        assertFalse(parse("--", "--help").help());
    }
}
