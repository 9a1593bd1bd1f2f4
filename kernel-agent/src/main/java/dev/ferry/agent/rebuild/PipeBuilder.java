package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.PipeImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recreates the LH's private pipes in a stopped stub: an injected pipe2, both ends moved to fd
 * numbers at or above {@code park} (above every fd the image uses, so placing the image's fds
 * by dup3 never closes one of them), the capacity set and the unread bytes written back. The
 * bytes are written from this JVM through a copy of the write end taken with pidfd_getfd; the
 * pipe is made O_NONBLOCK so a write that does not fit fails instead of hanging (the image's
 * own file status flags are set afterwards, per fd, by {@link KernelStateWriter}).
 */
final class PipeBuilder {
    private static final KernelCalls K = KernelCalls.INSTANCE;
    private static final int O_NONBLOCK = 04000;

    /** The parked fds of one pipe in the stub. */
    record Ends(long read, long write) {}

    private final SyscallInjector inject;
    private final RemoteMemory memory;
    private final long scratch;
    private final int stubHostPid;

    PipeBuilder(SyscallInjector inject, RemoteMemory memory, long scratch, int stubHostPid) {
        this.inject = inject;
        this.memory = memory;
        this.scratch = scratch;
        this.stubHostPid = stubHostPid;
    }

    /** Every pipe of {@code pipes}, by id, with its content; the caller closes the parked ends when done. */
    Map<Integer, Ends> create(List<PipeImage> pipes, int park) throws TraceException, IOException {
        Map<Integer, Ends> out = new LinkedHashMap<>();
        for (PipeImage p : pipes) {
            inject.check("pipe2 for pipe " + p.getId(), PIPE2, scratch, O_NONBLOCK | O_CLOEXEC);
            ByteBuffer fds = ByteBuffer.wrap(memory.read(scratch, 8)).order(ByteOrder.LITTLE_ENDIAN);
            int r = fds.getInt(), w = fds.getInt();
            long read = inject.check("park pipe read end", FCNTL, r, F_DUPFD_CLOEXEC, park);
            long write = inject.check("park pipe write end", FCNTL, w, F_DUPFD_CLOEXEC, park);
            inject.check("close", CLOSE, r);
            inject.check("close", CLOSE, w);
            out.put(p.getId(), new Ends(read, write));
            fill((int) write, p);
        }
        return out;
    }

    private void fill(int stubWriteFd, PipeImage p) throws IOException {
        int pidfd = -1, fd = -1;
        try {
            pidfd = K.syscall(KernelCalls.SYS_PIDFD_OPEN, stubHostPid, 0, 0);
            fd = K.syscall(KernelCalls.SYS_PIDFD_GETFD, pidfd, stubWriteFd, 0);
            if (p.getCapacity() != 0 && K.fcntl(fd, KernelCalls.F_GETPIPE_SZ, 0) != p.getCapacity()) {
                K.fcntl(fd, KernelCalls.F_SETPIPE_SZ, p.getCapacity());
            }
            byte[] bytes = p.getBuffered().toByteArray();
            int done = 0;
            while (done < bytes.length) {
                byte[] rest = done == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, done, bytes.length);
                done += (int) K.write(fd, rest, rest.length);
            }
        } catch (LastErrorException e) {
            throw new IOException("refilling pipe " + p.getId() + " (" + p.getBuffered().size() + " unread bytes, capacity "
                    + p.getCapacity() + "): errno " + e.getErrorCode(), e);
        } finally {
            for (int f : new int[] {fd, pidfd}) {
                if (f >= 0) {
                    K.close(f);
                }
            }
        }
    }
}
