package dev.ferry.agent;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.ferry.agent.linux.jna.LibC;
import dev.ferry.agent.linux.jna.Passwd;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.OptionalInt;

/**
 * Looks users up in the system's user database (through NSS, so LDAP/NIS users work as well as
 * /etc/passwd ones). Unknown users throw {@link NoSuchElementException}.
 */
public final class Users {
    private static final int MAX_BUFFER = 1 << 20;

    private Users() {}

    public static Credentials byName(String user) {
        return lookup("user " + user, (pwd, buf, result) ->
                LibC.INSTANCE.getpwnam_r(user, pwd, buf, new NativeLong(buf.size()), result));
    }

    public static Credentials byUid(int uid) {
        return lookup("uid " + uid, (pwd, buf, result) ->
                LibC.INSTANCE.getpwuid_r(uid, pwd, buf, new NativeLong(buf.size()), result));
    }

    /** The gid of a group name, through NSS; empty when there is no such group. */
    public static synchronized OptionalInt groupId(String group) {
        Pointer entry = LibC.INSTANCE.getgrnam(group);
        return entry == null ? OptionalInt.empty() : OptionalInt.of(entry.getInt(LibC.GROUP_GID_OFFSET));
    }

    private interface PasswdCall {
        int call(Passwd pwd, Memory buf, PointerByReference result);
    }

    /** Runs a getpw*_r call, growing the string buffer while it answers ERANGE. */
    private static Credentials lookup(String what, PasswdCall call) {
        for (int size = 1024; size <= MAX_BUFFER; size *= 4) {
            Passwd pwd = new Passwd();
            Memory buf = new Memory(size);
            PointerByReference result = new PointerByReference();
            int err = call.call(pwd, buf, result);
            if (err == LibC.ERANGE) {
                continue;
            }
            if (err != 0) {
                throw new IllegalStateException("looking up " + what + ": " + Errno.describe(err));
            }
            if (result.getValue() == null) {
                throw new NoSuchElementException("no such " + what);
            }
            pwd.read();
            return new Credentials(pwd.pw_name, pwd.pw_uid, pwd.pw_gid, groupsOf(pwd.pw_name, pwd.pw_gid));
        }
        throw new IllegalStateException("looking up " + what + ": entry larger than " + MAX_BUFFER + " bytes");
    }

    private static int[] groupsOf(String user, int gid) {
        IntByReference count = new IntByReference(32);
        for (;;) {
            int[] groups = new int[count.getValue()];
            int n = LibC.INSTANCE.getgrouplist(user, gid, groups, count);
            if (n >= 0) {
                return Arrays.copyOf(groups, n);
            }
            // too small: getgrouplist stored the number it needs in count (grow anyway, to be sure)
            count.setValue(Math.max(count.getValue(), groups.length * 2));
        }
    }
}
