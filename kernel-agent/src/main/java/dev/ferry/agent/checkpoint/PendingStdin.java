package dev.ferry.agent.checkpoint;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;
import java.io.IOException;
import java.io.ByteArrayOutputStream;

/**
 * The bytes still unread in a stopped program's stdin pipe. The program's own fd is taken with
 * pidfd_open + pidfd_getfd, and its content is copied with tee(2) into a private pipe and read
 * from there: tee does not consume, so the program (if it is left running, or if the capture
 * fails) still reads every byte, and no file status flag of its pipe is touched.
 */
final class PendingStdin {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    private PendingStdin() {}

    static byte[] peek(int hostPid, int fd) throws IOException {
        int pidfd = -1, pipeEnd = -1;
        int[] copy = {-1, -1};
        try {
            pidfd = K.syscall(KernelCalls.SYS_PIDFD_OPEN, hostPid, 0, 0);
            pipeEnd = K.syscall(KernelCalls.SYS_PIDFD_GETFD, pidfd, fd, 0);
            int[] pending = new int[1];
            K.ioctl(pipeEnd, KernelCalls.FIONREAD, pending);
            if (pending[0] == 0) {
                return new byte[0];
            }
            K.pipe2(copy, KernelCalls.O_CLOEXEC);
            int size = K.fcntl(pipeEnd, KernelCalls.F_GETPIPE_SZ, 0);
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
                throw new IOException("copied " + out.size() + " of the " + pending[0] + " unread bytes of its stdin");
            }
            return out.toByteArray();
        } catch (LastErrorException e) {
            throw new IOException("reading the unread stdin of process " + hostPid + ": errno " + e.getErrorCode(), e);
        } finally {
            for (int f : new int[] {pidfd, pipeEnd, copy[0], copy[1]}) {
                if (f >= 0) {
                    K.close(f);
                }
            }
        }
    }
}
