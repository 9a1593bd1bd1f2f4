package dev.ferry.agent.checkpoint;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;

/**
 * kcmp(2): whether two processes share a kernel object. Their pids say nothing about it, and
 * /proc shows only what the objects point at (a path, a pipe inode), not which object it is.
 */
final class Kcmp {
    private static final KernelCalls K = KernelCalls.INSTANCE;
    private static final int SYS_KCMP = 312, KCMP_FILE = 0, KCMP_VM = 1;

    private Kcmp() {}

    /** Whether fd {@code fd1} of {@code pid1} and fd {@code fd2} of {@code pid2} are one open file description. */
    static boolean sameFile(int pid1, int fd1, int pid2, int fd2) {
        return kcmp(pid1, pid2, KCMP_FILE, fd1, fd2);
    }

    /** Whether two processes share one address space (vfork, CLONE_VM without CLONE_THREAD). */
    static boolean sameMemory(int pid1, int pid2) {
        return kcmp(pid1, pid2, KCMP_VM, 0, 0);
    }

    private static boolean kcmp(int pid1, int pid2, int type, long idx1, long idx2) {
        try {
            return K.syscall(SYS_KCMP, pid1, pid2, type, idx1, idx2) == 0;
        } catch (LastErrorException e) {
            return false;   // a process or fd went away: nothing shared any more
        }
    }
}
