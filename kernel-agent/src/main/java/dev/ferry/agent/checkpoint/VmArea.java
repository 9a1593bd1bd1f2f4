package dev.ferry.agent.checkpoint;

import java.util.List;

/** One line of /proc/PID/smaps (or maps) with its VmFlags. */
public record VmArea(long start, long end, String perms, long offset, long inode, String path, List<String> vmFlags) {
    public VmArea {
        vmFlags = List.copyOf(vmFlags);
    }

    public long length() {
        return end - start;
    }

    public boolean readable() {
        return perms.charAt(0) == 'r';
    }

    public boolean shared() {
        return perms.charAt(3) == 's';
    }

    public int prot() {
        return (perms.charAt(0) == 'r' ? 1 : 0) | (perms.charAt(1) == 'w' ? 2 : 0) | (perms.charAt(2) == 'x' ? 4 : 0);
    }

    /** A file the kernel maps by path ("" and "[...]" pseudo names are not files). */
    public boolean fileBacked() {
        return path.startsWith("/");
    }

    public boolean isVdsoFamily() {
        return path.equals("[vdso]") || path.equals("[vvar]") || path.equals("[vvar_vclock]");
    }

    /** Parses /proc/PID/smaps (VmFlags lines attach to the area above them); plain maps text works too. */
    public static List<VmArea> parseSmaps(String text) {
        java.util.ArrayList<VmArea> out = new java.util.ArrayList<>();
        long start = 0, end = 0, offset = 0, inode = 0;
        String perms = null, path = null;
        List<String> flags = List.of();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                if (perms != null) {
                    out.add(new VmArea(start, end, perms, offset, inode, path, flags));
                }
                String[] f = line.split("\\s+", 6);
                start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
                end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
                perms = f[1];
                offset = Long.parseUnsignedLong(f[2], 16);
                inode = Long.parseLong(f[4]);
                path = f.length > 5 ? f[5].strip() : "";
                flags = List.of();
            } else if (line.startsWith("VmFlags:")) {
                flags = List.of(line.substring(8).strip().split("\\s+"));
            }
        }
        if (perms != null) {
            out.add(new VmArea(start, end, perms, offset, inode, path, flags));
        }
        return out;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }
}
