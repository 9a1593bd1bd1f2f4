package dev.ferry.agent.ptrace;

/** x86_64 system call numbers and flags used in injected calls. */
public final class Syscalls {
    public static final int CLOSE = 3, LSEEK = 8, MMAP = 9, MPROTECT = 10, MUNMAP = 11, BRK = 12,
            RT_SIGACTION = 13, MREMAP = 25, MADVISE = 28, GETITIMER = 36, SETITIMER = 38, FCNTL = 72,
            FTRUNCATE = 77, CHDIR = 80, UMASK = 95, SETPGID = 109, SETGROUPS = 116, SETRESUID = 117, SETRESGID = 119, SIGALTSTACK = 131, PRCTL = 157,
            SET_TID_ADDRESS = 218, TGKILL = 234, OPENAT = 257, SET_ROBUST_LIST = 273, DUP3 = 292, PIPE2 = 293, MEMFD_CREATE = 319,
            RSEQ = 334,
            PIDFD_OPEN = 434, CLONE3 = 435, PIDFD_GETFD = 438;

    public static final long AT_FDCWD = -100;
    public static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_GROWSDOWN = 0x100, MAP_FIXED_NOREPLACE = 0x100000;
    public static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_DONTFORK = 10, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16,
            MADV_WIPEONFORK = 18;
    public static final int PR_SET_DUMPABLE = 4, PR_SET_NAME = 15, PR_SET_MM = 35, PR_SET_MM_MAP = 14,
            PR_GET_TID_ADDRESS = 40;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int O_RDONLY = 0, O_CLOEXEC = 02000000;
    public static final int RSEQ_FLAG_UNREGISTER = 1;

    private Syscalls() {}
}
