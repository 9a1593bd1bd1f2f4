package dev.ferry.agent.linux.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The process-inspection calls of the C library used by checkpoint and rebuild: ptrace, wait,
 * cross-process memory access, limits and priorities. Pointers to buffers are passed as raw
 * addresses ({@code long}) where the kernel treats them as plain numbers (ptrace's addr/data).
 */
public interface KernelCalls extends Library {
    KernelCalls INSTANCE = Native.load("c", KernelCalls.class);

    long ptrace(long request, int pid, long addr, long data) throws LastErrorException;

    int waitpid(int pid, int[] status, int options) throws LastErrorException;

    /** iovecs are arrays of {void *base; size_t len} built in native memory. */
    long process_vm_readv(int pid, Pointer localIov, long localCount, Pointer remoteIov, long remoteCount, long flags)
            throws LastErrorException;

    long process_vm_writev(int pid, Pointer localIov, long localCount, Pointer remoteIov, long remoteCount, long flags)
            throws LastErrorException;

    /** struct rlimit is two unsigned longs; {@code newLimit} may be null. */
    int prlimit(int pid, int resource, long[] newLimit, long[] oldLimit) throws LastErrorException;

    int setpriority(int which, int who, int prio) throws LastErrorException;

    int kill(int pid, int sig) throws LastErrorException;

    /** get_robust_list(pid, &head, &len) through syscall(2). */
    long syscall(long number, int pid, long[] head, long[] len) throws LastErrorException;

    /** pidfd_open(pid, 0) and pidfd_getfd(pidfd, fd, 0) through syscall(2). */
    int syscall(long number, int a, int b, int c) throws LastErrorException;

    int pipe2(int[] fds, int flags) throws LastErrorException;

    /** kcmp(pid1, pid2, type, idx1, idx2) through syscall(2): 0 when the two objects are the same. */
    long syscall(long number, int pid1, int pid2, int type, long idx1, long idx2) throws LastErrorException;

    /** tee(2): duplicates up to {@code len} bytes of one pipe into another without consuming them. */
    long tee(int fdIn, int fdOut, long len, int flags) throws LastErrorException;

    int ioctl(int fd, long request, int[] arg) throws LastErrorException;

    int fcntl(int fd, int cmd, int arg) throws LastErrorException;

    long read(int fd, byte[] buf, long count) throws LastErrorException;

    long write(int fd, byte[] buf, long count) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int SYS_GET_ROBUST_LIST = 274, SYS_TGKILL = 234;
    int SYS_PIDFD_OPEN = 434, SYS_PIDFD_GETFD = 438;
    int FIONREAD = 0x541B, F_GETPIPE_SZ = 1032, F_SETPIPE_SZ = 1031, O_CLOEXEC = 02000000, SPLICE_F_NONBLOCK = 2;
    int PRIO_PROCESS = 0;
}
