package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Turns smaps areas into image mappings, or blockers for the kinds that cannot move yet. */
final class Mappings {
    private static final String DELETED = " (deleted)";

    private Mappings() {}

    /**
     * Whether {@code path} still names the file the area maps. If it was deleted or replaced
     * (a new inode, as package upgrades and editors do), the content is carried instead:
     * mapping the path again would give the program other bytes.
     */
    private static boolean sameFile(VmArea a, String path) {
        if (a.path().endsWith(DELETED)) {
            return false;
        }
        try {
            return ((Number) Files.getAttribute(Path.of(path), "unix:ino")).longValue() == a.inode();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static List<Mapping.Builder> of(List<VmArea> areas, String who, List<String> blockers) {
        List<Mapping.Builder> out = new ArrayList<>();
        for (VmArea a : areas) {
            String range = Long.toHexString(a.start()) + "-" + Long.toHexString(a.end());
            String blocker = blocker(a);
            if (blocker != null) {
                blockers.add(who + ": memory " + range + " is " + blocker);
                continue;
            }
            Mapping.Builder m = Mapping.newBuilder().setStart(a.start()).setEnd(a.end()).setProt(a.prot())
                    .setShared(a.shared()).setGrowsDown(growsDown(a)).setOffset(a.offset())
                    .addAllVmFlags(a.vmFlags()).setSpecial(special(a));
            if (a.fileBacked()) {
                String path = a.path().endsWith(DELETED) ? a.path().substring(0, a.path().length() - DELETED.length()) : a.path();
                m.setPath(path).setContentCarried(!a.shared() && !sameFile(a, path));
            }
            out.add(m);
        }
        return out;
    }

    /**
     * From VmFlags ("gd") when the area came from smaps; an area read from maps (pre-copy
     * rounds) has no flags, and there only the main stack is known to grow down. Both must
     * agree: the pre-copy destination keeps pages only where old and new mappings match.
     */
    private static boolean growsDown(VmArea a) {
        return a.vmFlags().contains("gd") || a.vmFlags().isEmpty() && a.path().equals("[stack]");
    }

    private static Mapping.Special special(VmArea a) {
        return switch (a.path()) {
            case "[vdso]" -> Mapping.Special.VDSO;
            case "[vvar]" -> Mapping.Special.VVAR;
            case "[vvar_vclock]" -> Mapping.Special.VVAR_VCLOCK;
            case "[vsyscall]" -> Mapping.Special.VSYSCALL;
            case "[heap]" -> Mapping.Special.HEAP;
            case "[stack]" -> Mapping.Special.STACK;
            default -> Mapping.Special.NONE;
        };
    }

    private static final String NOT_YET = ", which cannot be carried yet";

    /**
     * A MAP_SHARED area of a shared memory object the LH carries itself ({@link SharedObjects}):
     * MAP_SHARED|MAP_ANONYMOUS memory (shown as /dev/zero (deleted)) or a memfd. A private
     * mapping of a memfd is a private mapping of a deleted file: its content is carried.
     */
    static boolean sharedMemory(VmArea a) {
        String p = a.path();
        return a.shared() && (p.isEmpty() || p.startsWith("/dev/zero") || p.startsWith("/memfd:"));
    }

    private static String blocker(VmArea a) {
        String p = a.path();
        if (sharedMemory(a)) {
            return null;
        }
        if (p.startsWith("/SYSV")) {
            return "SysV shared memory (shmid " + a.inode() + ")" + NOT_YET;
        }
        if (p.startsWith("/dev/shm/")) {
            return "POSIX shared memory " + p + NOT_YET;
        }
        if (p.endsWith(DELETED) && a.shared()) {
            return "a shared mapping of the deleted file " + p.substring(0, p.length() - DELETED.length());
        }
        if (p.startsWith("/dev/")) {
            return "a mapping of the device " + p;
        }
        if (p.startsWith("[") && !p.equals("[heap]") && !p.equals("[stack]") && !a.isVdsoFamily() && !p.equals("[vsyscall]")) {
            return "a special mapping " + p;
        }
        return null;
    }
}
