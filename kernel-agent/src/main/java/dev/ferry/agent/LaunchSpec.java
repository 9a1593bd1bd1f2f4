package dev.ferry.agent;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything needed to start a program as a new logical host: argv (argv[0] is also the file
 * searched along the PATH of {@code env}), the environment as "K=V" entries, and the
 * credentials, directory, umask, nice value and resource limits the program runs with.
 */
public record LaunchSpec(String lhId, List<String> argv, List<String> env, String cwd, int umask,
                         int uid, int gid, int[] groups, List<RlimitSpec> rlimits, int nice) {

    /** LH ids become cgroup and file names, so they are restricted to a safe alphabet. */
    private static final Pattern LH_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public LaunchSpec {
        Objects.requireNonNull(lhId, "lhId");
        if (!LH_ID.matcher(lhId).matches()) {
            throw new IllegalArgumentException("LH id must match " + LH_ID + ": " + lhId);
        }
        argv = List.copyOf(argv);
        if (argv.isEmpty() || argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        env = List.copyOf(env);
        Objects.requireNonNull(cwd, "cwd");
        if (!cwd.startsWith("/")) {
            throw new IllegalArgumentException("cwd must be absolute: " + cwd);
        }
        if ((umask & ~0777) != 0) {
            throw new IllegalArgumentException("umask out of range: " + Integer.toOctalString(umask));
        }
        if (uid < 0 || gid < 0) {
            throw new IllegalArgumentException("uid and gid must be given: " + uid + "/" + gid);
        }
        groups = groups == null ? new int[0] : groups.clone();
        rlimits = rlimits == null ? List.of() : List.copyOf(rlimits);
    }

    @Override
    public int[] groups() {
        return groups.clone();
    }
}
