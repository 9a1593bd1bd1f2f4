package dev.ferry.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.dirty.PageRange;
import dev.ferry.proto.v1.Mapping;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule both sides of a pre-copy share. A round's layout is read from /proc/PID/maps, the
 * final one from the capture (smaps, with VmFlags); if the two disagreed about a mapping's
 * kind, the destination would map it afresh while the source re-sent nothing (seen: a
 * program's stack came out zero and it jumped to address 0).
 */
class MappingChangesTest {
    @Test
    void theSameProcessReadFromMapsAndFromSmapsRemapsNothing() throws Exception {
        List<Mapping> fromMaps = build(Mappings.of(VmArea.parseSmaps(Files.readString(Path.of("/proc/self/maps"))), "me", new ArrayList<>()));
        List<Mapping> fromSmaps = build(Mappings.of(VmArea.parseSmaps(Files.readString(Path.of("/proc/self/smaps"))), "me", new ArrayList<>()));
        // the JVM maps and unmaps between the two reads: compare only areas both saw alike
        List<Mapping> stable = new ArrayList<>();
        for (Mapping m : fromMaps) {
            if (fromSmaps.stream().anyMatch(s -> s.getStart() == m.getStart() && s.getEnd() == m.getEnd())) {
                stable.add(m);
            }
        }
        List<Mapping> stableSmaps = fromSmaps.stream().filter(s -> stable.stream()
                .anyMatch(m -> m.getStart() == s.getStart() && m.getEnd() == s.getEnd())).toList();
        assertTrue(stable.stream().anyMatch(m -> m.getSpecial() == Mapping.Special.STACK || !m.getPath().isEmpty()));
        assertEquals(List.of(), MappingChanges.remapped(stable, stableSmaps).ranges());
        Mapping stack = stable.stream().filter(m -> m.getSpecial() == Mapping.Special.STACK).findFirst().orElseThrow();
        assertTrue(stack.getGrowsDown(), "the main stack grows down, also when read from maps");
    }

    @Test
    void aHeapThatGrewKeepsItsPagesAndOnlyTheNewPartIsRemapped() {
        Mapping before = Mapping.newBuilder().setStart(0x10000).setEnd(0x20000).setProt(3).setSpecial(Mapping.Special.HEAP).build();
        Mapping after = before.toBuilder().setEnd(0x30000).build();
        assertEquals(List.of(PageRange.between(0x20000, 0x30000)), MappingChanges.remapped(List.of(before), List.of(after)).ranges());
    }

    @Test
    void aFileMappedOverAnonymousMemoryIsRemappedWhole() {
        Mapping anon = Mapping.newBuilder().setStart(0x10000).setEnd(0x20000).setProt(3).build();
        Mapping file = anon.toBuilder().setPath("/usr/lib/x").setOffset(0).build();
        assertEquals(List.of(PageRange.between(0x10000, 0x20000)), MappingChanges.remapped(List.of(anon), List.of(file)).ranges());
    }

    private static List<Mapping> build(List<Mapping.Builder> builders) {
        return builders.stream().map(Mapping.Builder::build).toList();
    }
}
