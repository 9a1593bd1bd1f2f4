package dev.ferry.agent;

import java.util.Arrays;

/** A user's name, uid, primary gid and every group the user belongs to (as getgrouplist(3)). */
public record Credentials(String user, int uid, int gid, int[] groups) {

    public Credentials {
        groups = groups.clone();
    }

    @Override
    public int[] groups() {
        return groups.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credentials c && user.equals(c.user) && uid == c.uid && gid == c.gid
                && Arrays.equals(groups, c.groups);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * user.hashCode() + uid) + Arrays.hashCode(groups);
    }

    @Override
    public String toString() {
        return "Credentials[user=" + user + ", uid=" + uid + ", gid=" + gid + ", groups=" + Arrays.toString(groups) + "]";
    }
}
