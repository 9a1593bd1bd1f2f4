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

    int SYS_GET_ROBUST_LIST = 274;
    int PRIO_PROCESS = 0;
}
