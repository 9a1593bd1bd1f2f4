package dev.ferry.agent.rebuild;

import dev.ferry.proto.v1.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a rebuild asks for transparent huge pages where the program had not (where it had,
 * "hg" is replayed anyway). The idea: a rebuild writes every carried page into fresh memory, and
 * 2 MiB pages need 512 times fewer faults than 4 KiB ones. So, when enabled, a big private
 * anonymous mapping that is nearly all carried gets MADV_HUGEPAGE if the host gives huge pages
 * only on request (THP "madvise"); smaps then shows "hg" for it. Small or sparse mappings (huge
 * pages would allocate memory the program never had), "nh" mappings and other THP modes are
 * left alone.
 *
 * <p>Off by default (-Dferry.restoreHugePages=true turns it on): on these Firecracker VMs, whose
 * free memory is handed back to the host in 8 MiB blocks (page_reporting_order=11), a huge page
 * usually comes from such a block and costs a host fault per 4 KiB anyway: 1 GiB restarts wrote
 * their pages in 760-1030 ms p50 (worst 1.8 s) with it against 420 ms (worst 480 ms) without, and
 * a C loop copying 1 GiB took 194-1788 ms with huge pages against 510-670 ms with small ones.
 * On hosts that keep their memory it should pay.
 */
final class HugePages {
    static final long MIN_BYTES = 8L << 20;
    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("ferry.restoreHugePages", "false"))
            && "madvise".equals(thpMode());

    private HugePages() {}

    static boolean worthAsking(Mapping m) {
        long bytes = m.getEnd() - m.getStart();
        return ENABLED && AddressSpaceBuilder.anonymous(m) && !m.getShared() && bytes >= MIN_BYTES
                && m.getCarriedPages() * AddressSpaceBuilder.PAGE >= bytes / 10 * 9
                && !m.getVmFlagsList().contains("nh") && !m.getVmFlagsList().contains("hg");
    }

    /** The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled, or "" without THP. */
    static String thpMode() {
        try {
            String s = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            int open = s.indexOf('['), close = s.indexOf(']');
            return open >= 0 && close > open ? s.substring(open + 1, close) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
