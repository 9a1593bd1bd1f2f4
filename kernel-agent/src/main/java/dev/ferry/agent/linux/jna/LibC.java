package dev.ferry.agent.linux.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The C library calls the kernel agent needs, and nothing else. Calls that set errno declare
 * {@link LastErrorException}; the *_r user database calls return their error number instead.
 */
public interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int ESRCH = 3;
    int ERANGE = 34;

    int kill(int pid, int sig) throws LastErrorException;

    int killpg(int pgrp, int sig) throws LastErrorException;

    int getpwnam_r(String name, Passwd pwd, Pointer buf, NativeLong buflen, PointerByReference result);

    int getpwuid_r(int uid, Passwd pwd, Pointer buf, NativeLong buflen, PointerByReference result);

    /** Returns -1 and sets {@code ngroups} to the number needed when the array is too small. */
    int getgrouplist(String user, int group, int[] groups, IntByReference ngroups);

    /** struct group *: gr_name, gr_passwd (pointers), then gid_t gr_gid at offset 16. Not reentrant. */
    Pointer getgrnam(String name);

    int GROUP_GID_OFFSET = 16;
}
