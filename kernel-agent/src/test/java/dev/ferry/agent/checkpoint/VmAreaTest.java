package dev.ferry.agent.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class VmAreaTest {
    static final String SMAPS = """
            55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 123456                     /usr/bin/ticker
            Size:                  4 kB
            VmFlags: rd mr mw me sd
            7ffd9cc06000-7ffd9cc27000 rw-p 00000000 00:00 0                          [stack]
            Rss:                  12 kB
            VmFlags: rd wr mr mw me gd ac
            7f0000000000-7f0000001000 rw-s 00000000 00:01 77                         /dev/zero (deleted)
            VmFlags: rd wr sh mr mw me ms sd
            """;

    @Test
    void parsesAreasWithTheirFlags() {
        List<VmArea> areas = VmArea.parseSmaps(SMAPS);
        assertEquals(3, areas.size());
        assertEquals(0x55d0c0a00000L, areas.get(0).start());
        assertEquals("/usr/bin/ticker", areas.get(0).path());
        assertEquals(1, areas.get(0).prot());
        assertTrue(areas.get(1).vmFlags().contains("gd"));
        assertEquals("[stack]", areas.get(1).path());
        assertTrue(areas.get(2).shared());
    }

    @Test
    void sharedAnonymousMemoryIsASharedMemoryObjectAndSysvIsABlocker() {
        List<String> blockers = new java.util.ArrayList<>();
        var mappings = Mappings.of(VmArea.parseSmaps(SMAPS + "7f0000002000-7f0000003000 rw-s 00000000 00:01 32789 /SYSV00000000 (deleted)\n"),
                "cannot migrate 7.2 (ticker)", blockers);
        assertEquals(3, mappings.size());
        assertTrue(Mappings.sharedMemory(VmArea.parseSmaps(SMAPS).get(2)));
        assertEquals(List.of("cannot migrate 7.2 (ticker): memory 7f0000002000-7f0000003000 is SysV shared memory (shmid 32789),"
                + " which cannot be carried yet"), blockers);
    }

    @Test
    void socketAddressesAreReadable() {
        assertEquals("198.18.0.3:5432", SocketNames.address("030012C6:1538"));
    }
}
