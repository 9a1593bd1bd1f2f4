package dev.ferry.agent;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Finds this process' own cgroup directories from the texts of /proc/self/mountinfo and
 * /proc/self/cgroup (pure parsing, so tests use fixtures). A hierarchy's directory is its
 * mount point plus our path in it, relative to the mount's root.
 */
final class CgroupMounts {
    private final String mountinfo;
    private final String selfCgroup;

    CgroupMounts(String mountinfo, String selfCgroup) {
        this.mountinfo = mountinfo;
        this.selfCgroup = selfCgroup;
    }

    /** Our directory in the cgroup2 hierarchy. */
    Optional<Path> unified() {
        return mount(m -> m.fsType.equals("cgroup2"))
                .flatMap(m -> ownPath("0", "").map(own -> m.directoryOf(own)));
    }

    /** Our directory in the v1 hierarchy that has {@code controller} (e.g. "freezer"). */
    Optional<Path> v1(String controller) {
        return mount(m -> m.fsType.equals("cgroup")
                        && Arrays.asList(m.superOptions.split(",")).contains(controller))
                .flatMap(m -> ownPath(null, controller).map(own -> m.directoryOf(own)));
    }

    private record Mount(String root, String mountPoint, String fsType, String superOptions) {
        Path directoryOf(String ownPath) {
            String relative = root.equals("/") ? ownPath
                    : ownPath.startsWith(root) ? ownPath.substring(root.length()) : ownPath;
            return Path.of(mountPoint, relative.isEmpty() ? "/" : relative).normalize();
        }
    }

    private interface MountFilter {
        boolean test(Mount mount);
    }

    /** mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS". */
    private Optional<Mount> mount(MountFilter filter) {
        for (String line : mountinfo.split("\n")) {
            String[] f = line.split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash < 6 || f.length < dash + 4) {
                continue;
            }
            Mount m = new Mount(unescape(f[3]), unescape(f[4]), f[dash + 1], f[dash + 3]);
            if (filter.test(m)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** /proc/self/cgroup: "HIERARCHY-ID:CONTROLLERS:PATH"; cgroup2 is "0::PATH". */
    private Optional<String> ownPath(String hierarchyId, String controller) {
        for (String line : selfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            boolean match = hierarchyId != null
                    ? f[0].equals(hierarchyId) && f[1].equals(controller)
                    : Arrays.asList(f[1].split(",")).contains(controller);
            if (match) {
                return Optional.of(f[2].strip());
            }
        }
        return Optional.empty();
    }

    /** mountinfo escapes space, tab, newline and backslash as octal (\040 ...). */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).chars().allMatch(Character::isDigit)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
