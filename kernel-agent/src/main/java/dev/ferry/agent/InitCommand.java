package dev.ferry.agent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/** The command line of ferry-init for one launch (its grammar is documented in ferry-init.c). */
final class InitCommand {
    private InitCommand() {}

    /** Restore mode: the init creates a stub at {@code lhPid} for the kernel agent to rebuild. */
    static List<String> restore(Path initBinary, List<Path> procsFiles, Path statusFile, int lhPid) {
        List<String> cmd = common(initBinary, procsFiles, statusFile);
        cmd.add("--restore");
        cmd.add(Integer.toString(lhPid));
        return cmd;
    }

    /**
     * Restore mode for a process tree: a stub for every process of {@code processes} (parents
     * first, [0] the program), each at its old pid under its old parent (see ferry-init.c).
     */
    static List<String> restoreTree(Path initBinary, List<Path> procsFiles, Path statusFile,
                                    List<dev.ferry.proto.v1.ProcessImage> processes) {
        List<String> cmd = restore(initBinary, procsFiles, statusFile, processes.get(0).getPid());
        cmd.add("--restore-tree");
        cmd.add(StubTree.argument(processes));
        return cmd;
    }

    /** What both modes start with: the binary, the LH's cgroups and the status file. */
    private static List<String> common(Path initBinary, List<Path> procsFiles, Path statusFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add(initBinary.toString());
        for (Path procs : procsFiles) {
            cmd.add("--cgroup-procs");
            cmd.add(procs.toString());
        }
        cmd.add("--status");
        cmd.add(statusFile.toString());
        return cmd;
    }

    static List<String> of(Path initBinary, List<Path> procsFiles, Path statusFile, LaunchSpec spec,
                           List<RlimitSpec> rlimits) {
        List<String> cmd = common(initBinary, procsFiles, statusFile);
        cmd.add("--uid");
        cmd.add(Integer.toUnsignedString(spec.uid()));
        cmd.add("--gid");
        cmd.add(Integer.toUnsignedString(spec.gid()));
        int[] groups = spec.groups();
        if (groups.length > 0) {
            StringJoiner list = new StringJoiner(",");
            for (int g : groups) {
                list.add(Integer.toUnsignedString(g));
            }
            cmd.add("--groups");
            cmd.add(list.toString());
        }
        cmd.add("--umask");
        cmd.add(Integer.toOctalString(spec.umask()));
        cmd.add("--cwd");
        cmd.add(spec.cwd());
        cmd.add("--nice");
        cmd.add(Integer.toString(spec.nice()));
        for (RlimitSpec r : rlimits) {
            cmd.add("--rlimit");
            cmd.add(r.resource() + ":" + RlimitSpec.format(r.soft()) + ":" + RlimitSpec.format(r.hard()));
        }
        cmd.add("--");
        cmd.add(spec.argv().get(0));   // the file to run, searched along the program's PATH
        cmd.addAll(spec.argv());       // argv[0] onwards
        return cmd;
    }
}
