package dev.ferry.agent;

import java.util.Arrays;

/**
 * The fields of /proc/PID/status the agent uses. {@code nsPids} is the NSpid line: the pid in
 * the namespace of the /proc that was read first, down to the innermost namespace; uid and gid
 * are the real ids.
 */
public record ProcStatus(String name, char state, int ppid, int[] nsPids, int uid, int gid) {

    public ProcStatus {
        if (nsPids == null || nsPids.length == 0) {
            throw new IllegalArgumentException("a process has at least one pid");
        }
        nsPids = nsPids.clone();
    }

    @Override
    public int[] nsPids() {
        return nsPids.clone();
    }

    /** The pid the process sees for itself (inside its logical host). */
    public int innermostPid() {
        return nsPids[nsPids.length - 1];
    }

    /** The pid in the namespace of the /proc that was read (the host, for {@link ProcFs#host()}). */
    public int outermostPid() {
        return nsPids[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProcStatus p && name.equals(p.name) && state == p.state && ppid == p.ppid
                && Arrays.equals(nsPids, p.nsPids) && uid == p.uid && gid == p.gid;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + ppid) + Arrays.hashCode(nsPids);
    }

    @Override
    public String toString() {
        return "ProcStatus[name=" + name + ", state=" + state + ", ppid=" + ppid + ", nsPids="
                + Arrays.toString(nsPids) + ", uid=" + uid + ", gid=" + gid + "]";
    }
}
