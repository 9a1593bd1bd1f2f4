package dev.ferry.agent.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.ptrace.TracerThread;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class DirtyTrackersProbeTest {
    @Test
    void probeNamesAWorkingTrackerAndHashAlwaysWorks() {
        List<DirtyTrackers.Probe> all = DirtyTrackers.probeAll();
        assertEquals(DirtyTrackers.NAMES, all.stream().map(DirtyTrackers.Probe::tracker).toList());
        assertTrue(all.get(2).works(), all.toString());
        String chosen = DirtyTrackers.probe();
        DirtyTrackers.Probe first = all.stream().filter(DirtyTrackers.Probe::works).findFirst().orElseThrow();
        assertEquals(first.tracker(), chosen, all.toString());
    }

    /** The kernel facts of DESIGN.md §5 for Linux 6.7+: uffd-wp with PAGEMAP_SCAN works. */
    @Test
    void uffdWpWorksFromLinux67() {
        String[] v = System.getProperty("os.version").split("[.-]");
        int major = Integer.parseInt(v[0]), minor = Integer.parseInt(v[1]);
        DirtyTrackers.Probe p = DirtyTrackers.probe(DirtyTrackers.UFFD_WP);
        if (major > 6 || (major == 6 && minor >= 7)) {
            assertTrue(p.works(), p.detail());
            assertEquals(DirtyTrackers.UFFD_WP, DirtyTrackers.probe());
        }
    }

    /** A soft-dirty verdict agrees with the kernel's config when the config is readable. */
    @Test
    void softDirtyVerdictMatchesTheKernelConfig() throws Exception {
        java.nio.file.Path config = java.nio.file.Path.of("/boot/config-" + System.getProperty("os.version"));
        DirtyTrackers.Probe p = DirtyTrackers.probe(DirtyTrackers.SOFT_DIRTY);
        if (java.nio.file.Files.isReadable(config)) {
            boolean configured = java.nio.file.Files.readAllLines(config).contains("CONFIG_MEM_SOFT_DIRTY=y");
            assertEquals(configured, p.works(), p.detail());
        }
        if (!p.works()) {
            assertFalse(p.detail().isBlank());
        }
    }

    @Test
    void unknownTrackerNamesAreRefused() {
        try (TracerThread tracer = new TracerThread("probe-test")) {
            assertThrows(IllegalArgumentException.class, () -> DirtyTrackers.open("magic", 1, tracer));
        }
        assertFalse(DirtyTrackers.probe("magic").works());
    }
}
