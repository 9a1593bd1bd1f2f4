package dev.ferry.agent.linux.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The C library calls of dirty-page tracking: raw fds (the PAGEMAP_SCAN and userfaultfd ioctls
 * need them), pread into native memory, and the pidfd calls that take the target's userfaultfd.
 * The constants are from Linux 6.7+ uapi headers (this machine's headers are 6.1).
 */
public interface DirtyCalls extends Library {
    DirtyCalls INSTANCE = Native.load("c", DirtyCalls.class);

    int open(String path, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    long pread(int fd, Pointer buf, long count, long offset) throws LastErrorException;

    int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

    /** pidfd_open(pid, 0), pidfd_getfd(pidfd, fd, 0) and pidfd_send_signal(pidfd, sig, NULL, 0). */
    long syscall(long number, long a, long b, long c) throws LastErrorException;

    int O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 02000000, O_NONBLOCK = 04000;
    int SYS_USERFAULTFD = 323, SYS_PIDFD_SEND_SIGNAL = 424, SYS_PIDFD_OPEN = 434, SYS_PIDFD_GETFD = 438;
    int EPERM = 1, EINTR = 4, EINVAL = 22;

    /** _IOWR('f', 16, struct pm_scan_arg): 12 u64 fields, 96 bytes. */
    long PAGEMAP_SCAN = 0xC0606610L;
    long PM_SCAN_WP_MATCHING = 1, PM_SCAN_CHECK_WPASYNC = 2;
    long PAGE_IS_WPALLOWED = 1, PAGE_IS_WRITTEN = 1 << 1, PAGE_IS_FILE = 1 << 2, PAGE_IS_PRESENT = 1 << 3,
            PAGE_IS_SWAPPED = 1 << 4;

    int UFFD_USER_MODE_ONLY = 1;
    long UFFD_API = 0xAA;
    long UFFD_FEATURE_WP_UNPOPULATED = 1 << 13, UFFD_FEATURE_WP_ASYNC = 1 << 15;
    /** _IOWR(0xAA, 0x3F, struct uffdio_api {api, features, ioctls}). */
    long UFFDIO_API = 0xC018AA3FL;
    /** _IOWR(0xAA, 0x00, struct uffdio_register {start, len, mode, ioctls}). */
    long UFFDIO_REGISTER = 0xC020AA00L;
    /** _IOR(0xAA, 0x01, struct uffdio_range {start, len}). */
    long UFFDIO_UNREGISTER = 0x8010AA01L;
    long UFFDIO_REGISTER_MODE_WP = 1 << 1;
}
