package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where this program manager creates its logical hosts' cgroups: a parent directory named
 * after the PM, under the PM's own cgroup (so that several PMs on one machine, each in its own
 * cgroup, never collide), holding one {@code lh-<lhId>} child per LH.
 *
 * <p>cgroup2 is used when its cgroup.freeze exists (one hierarchy does everything); otherwise
 * the v1 freezer hierarchy, with cpuacct beside it for CPU time when it is mounted.
 */
public final class CgroupTree {
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final Path unified;   // the cgroup2 parent, or null when v1 is used
    private final Path freezer;   // the v1 parents, or null when cgroup2 is used
    private final Path cpuacct;   // may be null with v1 as well

    private CgroupTree(Path unified, Path freezer, Path cpuacct) {
        this.unified = unified;
        this.freezer = freezer;
        this.cpuacct = cpuacct;
    }

    public static CgroupTree probe(String groupName) throws IOException {
        return probe(groupName, true);
    }

    /** {@code allowV2 = false} forces the v1 freezer even where cgroup2 could freeze (tests). */
    static CgroupTree probe(String groupName, boolean allowV2) throws IOException {
        if (!SAFE_NAME.matcher(groupName).matches()) {
            throw new IllegalArgumentException("cgroup name must match " + SAFE_NAME + ": " + groupName);
        }
        CgroupMounts mounts = new CgroupMounts(ProcText.read(Path.of("/proc/self/mountinfo")),
                ProcText.read(Path.of("/proc/self/cgroup")));
        if (allowV2 && mounts.unified().isPresent()) {
            Path parent = mounts.unified().get().resolve(groupName);
            boolean created = createIfMissing(parent);
            if (Files.exists(parent.resolve("cgroup.freeze"))) {
                return new CgroupTree(parent, null, null);
            }
            if (created) {
                Files.delete(parent);
            }
        }
        Path freezer = mounts.v1("freezer").map(p -> p.resolve(groupName))
                .orElseThrow(() -> new IOException("no cgroup freezer: neither cgroup2 with cgroup.freeze nor a v1 freezer is mounted"));
        createIfMissing(freezer);
        Path cpuacct = mounts.v1("cpuacct").map(p -> p.resolve(groupName)).orElse(null);
        if (cpuacct != null) {
            createIfMissing(cpuacct);
        }
        return new CgroupTree(null, freezer, cpuacct);
    }

    private static boolean createIfMissing(Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * Creates the cgroup(s) {@code lh-<lhId>}. A leftover empty cgroup of the same name (from a
     * crashed PM) is reused; one that still holds processes is refused.
     */
    public LhCgroup create(String lhId) throws IOException {
        if (!SAFE_NAME.matcher(lhId).matches()) {
            throw new IllegalArgumentException("LH id must match " + SAFE_NAME + ": " + lhId);
        }
        String name = "lh-" + lhId;
        List<Path> made = new ArrayList<>();
        try {
            for (Path parent : parents()) {
                Path dir = parent.resolve(name);
                if (createIfMissing(dir)) {
                    made.add(dir);
                } else if (!CgroupFiles.pids(dir.resolve("cgroup.procs")).isEmpty()) {
                    throw new IOException("cgroup " + dir + " already holds processes");
                }
            }
        } catch (IOException e) {
            for (Path dir : made) {
                Files.deleteIfExists(dir);
            }
            throw e;
        }
        return unified != null ? new CgroupV2(lhId, unified.resolve(name))
                : new CgroupV1(lhId, freezer.resolve(name), cpuacct == null ? null : cpuacct.resolve(name));
    }

    /** E.g. "cgroup2 /sys/fs/cgroup/unified/ferry-h1 (freeze, kill)". */
    public String describe() {
        if (unified != null) {
            return "cgroup2 " + unified + " (freeze" + (Files.exists(unified.resolve("cgroup.kill")) ? ", kill)" : ")");
        }
        return "cgroup v1 " + freezer + " (freezer)" + (cpuacct == null ? "" : ", " + cpuacct + " (cpuacct)");
    }

    /**
     * At start: removes the empty {@code lh-*} cgroups a previous manager left behind (one
     * SIGKILLed while it received a migration leaves the half-built LH's cgroup: its restore
     * stub dies with it, by PTRACE_O_EXITKILL). Cgroups that still hold processes are kept
     * (the kernel refuses to remove them); returns the names removed.
     */
    public List<String> removeEmptyLeftovers() throws IOException {
        List<String> removed = new ArrayList<>();
        for (Path parent : parents()) {
            try (var children = Files.newDirectoryStream(parent, "lh-*")) {
                for (Path child : children) {
                    if (Files.isDirectory(child) && CgroupFiles.pids(child.resolve("cgroup.procs")).isEmpty()) {
                        try {
                            Files.delete(child);
                            removed.add(child.toString());
                        } catch (IOException busy) {
                            // a process entered it meanwhile, or it has children: keep it
                        }
                    }
                }
            }
        }
        return removed;
    }

    /** Removes the parent directories if no LH cgroup is left in them (at shutdown). */
    public void removeEmpty() {
        for (Path parent : parents()) {
            try {
                Files.deleteIfExists(parent);
            } catch (IOException stillUsed) {
                // an LH cgroup is still there: keep the parent for it
            }
        }
    }

    private List<Path> parents() {
        List<Path> parents = new ArrayList<>();
        for (Path p : new Path[] {unified, freezer, cpuacct}) {
            if (p != null) {
                parents.add(p);
            }
        }
        return parents;
    }
}
