package dev.ferry.agent.checkpoint;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * The bytes still unread in a pipe a stopped program holds (its stdin, or one of the LH's own
 * pipes), and the pipe's capacity. The program's own read end is taken with pidfd_open + pidfd_getfd, and
 * its content is copied with tee(2) into a scratch pipe and read from there: tee does not
 * consume, so the program (if it is left running, or if the capture fails) still reads every
 * byte, and no file status flag of its pipe is touched.
 */
final class PipeContent {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    /** {@code capacity} is F_GETPIPE_SZ in bytes. */
    record Snapshot(byte[] unread, int capacity) {}

    private PipeContent() {}

    /**
     * The unread bytes and capacity of the pipe an end of which is {@code fd} in the stopped
     * process; through a write end ({@code readEnd} false) only the capacity (tee needs a read end).
     */
    static Snapshot peek(int hostPid, int fd, boolean readEnd) throws IOException {
        int readFd = fd;
        int pidfd = -1, pipeEnd = -1;
        int[] copy = {-1, -1};
        try {
            pidfd = K.syscall(KernelCalls.SYS_PIDFD_OPEN, hostPid, 0, 0);
            pipeEnd = K.syscall(KernelCalls.SYS_PIDFD_GETFD, pidfd, readFd, 0);
            int size = K.fcntl(pipeEnd, KernelCalls.F_GETPIPE_SZ, 0);
            if (!readEnd) {
                return new Snapshot(new byte[0], size);
            }
            int[] pending = new int[1];
            K.ioctl(pipeEnd, KernelCalls.FIONREAD, pending);
            if (pending[0] == 0) {
                return new Snapshot(new byte[0], size);
            }
            K.pipe2(copy, KernelCalls.O_CLOEXEC);
            if (size > 65536) {
                K.fcntl(copy[1], KernelCalls.F_SETPIPE_SZ, size);
            }
            // tee copies from the start of the pipe; one call takes what fits, which is all of it
            long teed = K.tee(pipeEnd, copy[1], pending[0], KernelCalls.SPLICE_F_NONBLOCK);
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) teed);
            byte[] buf = new byte[65536];
            long left = teed;
            while (left > 0) {
                long n = K.read(copy[0], buf, Math.min(buf.length, left));
                if (n <= 0) {
                    break;
                }
                out.write(buf, 0, (int) n);
                left -= n;
            }
            if (out.size() != pending[0]) {
                throw new IOException("copied " + out.size() + " of the " + pending[0] + " unread bytes of its fd " + readFd);
            }
            return new Snapshot(out.toByteArray(), size);
        } catch (LastErrorException e) {
            throw new IOException("reading the pipe at fd " + readFd + " of process " + hostPid + ": errno "
                    + e.getErrorCode(), e);
        } finally {
            for (int f : new int[] {pidfd, pipeEnd, copy[0], copy[1]}) {
                if (f >= 0) {
                    K.close(f);
                }
            }
        }
    }
}
