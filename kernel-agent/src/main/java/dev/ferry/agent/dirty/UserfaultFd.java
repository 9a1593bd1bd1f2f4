package dev.ferry.agent.dirty;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import dev.ferry.agent.linux.jna.DirtyCalls;
import dev.ferry.agent.ptrace.Syscalls;
import java.io.IOException;

/**
 * A userfaultfd created inside the target (injected: a userfaultfd belongs to the mm of the
 * process that creates it) and then taken over with pidfd_getfd. Every later ioctl acts on the
 * target's mm from here, so registering new mappings needs no further injection.
 */
final class UserfaultFd implements AutoCloseable {
    private static final DirtyCalls C = DirtyCalls.INSTANCE;
    /** Non-root targets: vm.unprivileged_userfaultfd is 0, user-mode-only faults are allowed. */
    static final long CREATE_FLAGS = Syscalls.O_CLOEXEC | DirtyCalls.O_NONBLOCK | DirtyCalls.UFFD_USER_MODE_ONLY;
    static final long FEATURES = DirtyCalls.UFFD_FEATURE_WP_ASYNC | DirtyCalls.UFFD_FEATURE_WP_UNPOPULATED;

    private final int fd;
    private final Memory arg = new Memory(32);

    private UserfaultFd(int fd) {
        this.fd = fd;
    }

    /** Creates the fd in the stopped target, takes a copy, closes the target's own. */
    static UserfaultFd takeFrom(int pid, TargetStop stop) throws IOException {
        int fd = stop.whileStopped(inject -> {
            long remote = inject.call(DirtyCalls.SYS_USERFAULTFD, CREATE_FLAGS);
            if (remote < 0) {
                throw new IOException("injected userfaultfd in process " + pid + " failed: errno " + -remote);
            }
            try {
                return steal(pid, (int) remote);
            } finally {
                inject.call(Syscalls.CLOSE, remote);
            }
        });
        UserfaultFd u = new UserfaultFd(fd);
        try {
            u.enableAsyncWriteProtect();
        } catch (IOException e) {
            u.close();
            throw e;
        }
        return u;
    }

    private static int steal(int pid, int remoteFd) throws IOException {
        int pidfd;
        try {
            pidfd = (int) C.syscall(DirtyCalls.SYS_PIDFD_OPEN, pid, 0, 0);
        } catch (LastErrorException e) {
            throw new IOException("pidfd_open(" + pid + "): errno " + e.getErrorCode(), e);
        }
        try {
            return (int) C.syscall(DirtyCalls.SYS_PIDFD_GETFD, pidfd, remoteFd, 0);
        } catch (LastErrorException e) {
            throw new IOException("pidfd_getfd of fd " + remoteFd + " of " + pid + ": errno " + e.getErrorCode(), e);
        } finally {
            C.close(pidfd);
        }
    }

    /** UFFDIO_API: writes into wp-registered areas resolve in the kernel and are only recorded. */
    private void enableAsyncWriteProtect() throws IOException {
        arg.clear();
        arg.setLong(0, DirtyCalls.UFFD_API);
        arg.setLong(8, FEATURES);
        try {
            C.ioctl(fd, DirtyCalls.UFFDIO_API, arg);
        } catch (LastErrorException e) {
            throw new IOException("UFFDIO_API with WP_ASYNC|WP_UNPOPULATED: errno " + e.getErrorCode()
                    + " (needs Linux 6.7+)", e);
        }
    }

    /** UFFDIO_REGISTER in write-protect mode; returns 0 or the errno (EBUSY: another userfaultfd has it). */
    int register(PageRange range) {
        arg.clear();
        arg.setLong(0, range.start());
        arg.setLong(8, range.length());
        arg.setLong(16, DirtyCalls.UFFDIO_REGISTER_MODE_WP);
        try {
            C.ioctl(fd, DirtyCalls.UFFDIO_REGISTER, arg);
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }

    /** Unregistering also clears the write-protect bits left in the page tables. */
    int unregister(PageRange range) {
        arg.clear();
        arg.setLong(0, range.start());
        arg.setLong(8, range.length());
        try {
            C.ioctl(fd, DirtyCalls.UFFDIO_UNREGISTER, arg);
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }

    @Override
    public void close() {
        try {
            C.close(fd);
        } catch (LastErrorException e) {
            // already closed
        }
    }
}
