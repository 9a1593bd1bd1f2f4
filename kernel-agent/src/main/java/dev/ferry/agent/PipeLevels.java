package dev.ferry.agent;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.DirtyCalls;
import dev.ferry.agent.linux.jna.KernelCalls;

/**
 * How many bytes wait unread in a pipe that a process holds, asked through a second, read-only
 * opening of it from /proc (FIONREAD answers for the pipe, whichever end is opened). Used at a
 * migration's freeze: once the frozen program's output pipes are empty and the manager's pumps
 * have logged what they read, the stream offsets are final.
 */
public final class PipeLevels {
    private static final int O_RDONLY = 0;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final long FIONREAD = 0x541B;

    private PipeLevels() {}

    /** Unread bytes in the pipe at {@code fd} of process {@code hostPid}; -1 if it cannot be asked. */
    public static int unread(int hostPid, int fd) {
        int pipe;
        try {
            pipe = DirtyCalls.INSTANCE.open("/proc/" + hostPid + "/fd/" + fd, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        } catch (LastErrorException e) {
            return -1;
        }
        try {
            int[] count = new int[1];
            KernelCalls.INSTANCE.ioctl(pipe, FIONREAD, count);
            return count[0];
        } catch (LastErrorException e) {
            return -1;
        } finally {
            try {
                KernelCalls.INSTANCE.close(pipe);
            } catch (LastErrorException ignored) {
                // nothing to do
            }
        }
    }
}
