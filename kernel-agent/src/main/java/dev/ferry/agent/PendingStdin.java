package dev.ferry.agent;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;

/**
 * Writes the stdin bytes a captured program had not read into the new stdin pipe of its
 * restore stub, before the rebuilt program runs. A pipe holds 64 KiB by default; more than
 * that (a program that had enlarged its pipe) needs the new pipe enlarged to match, else the
 * rest can only be written as the program reads it — which a program restored frozen cannot.
 */
final class PendingStdin {
    private static final KernelCalls K = KernelCalls.INSTANCE;
    private static final int DEFAULT_PIPE = 65536;

    private PendingStdin() {}

    /**
     * Completes once every byte is in the pipe. With {@code mustFitNow} (a frozen restore) it
     * is complete on return or throws; otherwise bytes that do not fit are written by a
     * background task as the program reads them.
     */
    static CompletableFuture<Void> write(LaunchedLh lh, int stubHostPid, byte[] pending, boolean mustFitNow) throws IOException {
        if (pending.length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        Runnable write = () -> {
            try {
                lh.stdin().write(pending);
                lh.stdin().flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        if (pending.length <= DEFAULT_PIPE || enlarge(stubHostPid, pending.length, mustFitNow)) {
            write.run();
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(write);
    }

    /**
     * F_SETPIPE_SZ on the stub's fd 0 (taken with pidfd_getfd; the size belongs to the pipe),
     * which without CAP_SYS_RESOURCE works up to /proc/sys/fs/pipe-max-size.
     */
    private static boolean enlarge(int stubHostPid, int bytes, boolean mustSucceed) throws IOException {
        int pidfd = -1, readEnd = -1;
        String why;
        try {
            pidfd = K.syscall(KernelCalls.SYS_PIDFD_OPEN, stubHostPid, 0, 0);
            readEnd = K.syscall(KernelCalls.SYS_PIDFD_GETFD, pidfd, 0, 0);
            int size = K.fcntl(readEnd, KernelCalls.F_SETPIPE_SZ, bytes);
            if (size >= bytes) {
                return true;
            }
            why = "it holds " + size;
        } catch (LastErrorException e) {
            why = "errno " + e.getErrorCode();
        } finally {
            closeQuietly(readEnd);
            closeQuietly(pidfd);
        }
        if (mustSucceed) {
            throw new IOException("the new stdin pipe cannot hold the " + bytes + " bytes the program had not read (" + why + ")");
        }
        return false;
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                K.close(fd);
            } catch (LastErrorException e) {
                // nothing to do about it
            }
        }
    }
}
