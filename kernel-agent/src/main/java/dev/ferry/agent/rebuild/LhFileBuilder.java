package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.PipeImage;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Recreates the open files of an LH's processes, one process after the other, so that what
 * they shared is shared again: each pipe of the LH is made once (in the first process rebuilt,
 * its ends parked there until {@link #closeParked}), and each open file description they
 * shared ({@code file_id}) is made once, by the first process that holds it; every other
 * process takes it from there with an injected pidfd_open + pidfd_getfd (the stubs are still
 * root, which that needs) and dup3s it to its fd. The stdio pipes every stub inherited from the
 * init already are one description. Memfds come from the {@link SharedMemoryBuilder}.
 */
final class LhFileBuilder {
    private static final int O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000, F_SETFD = 2, FD_CLOEXEC = 1, F_SETFL = 4;
    private static final int SETFL_MASK = 02000 | 04000 | 040000 | 01000000;   // O_APPEND|O_NONBLOCK|O_DIRECT|O_NOATIME

    /** Where an fd can be taken from: process (pid in the LH) and fd. */
    private record Source(int pid, long fd) {}

    private final List<PipeImage> pipes;
    private final SharedMemoryBuilder shared;
    private final Map<Integer, Source> descriptions = new HashMap<>();   // file_id -> its first fd
    private Map<Integer, PipeBuilder.Ends> parked;                       // pipe id -> its ends, parked in the creator
    private int creator;
    private SyscallInjector creatorInject;

    /** {@code shared}: where memfds come from (null: the image has none). */
    LhFileBuilder(List<PipeImage> pipes, SharedMemoryBuilder shared) {
        this.pipes = pipes;
        this.shared = shared;
    }

    /**
     * The fds of process {@code lhPid} ({@code fds}), by calls injected through {@code inject}.
     * The stub holds the new stdio pipes at 0/1/2; they are parked above every fd it is to have
     * first, then each fd is recreated: taken from where it already exists, a pipe end dup'ed
     * from its parked end, a stdio fd from the parked stdio, a file opened again (never created
     * or truncated) and seeked.
     */
    void install(int lhPid, int hostPid, List<FileDescriptor> fds, SyscallInjector inject, RemoteMemory memory,
                 AddressSpaceBuilder space) throws TraceException, IOException {
        int park = 3;
        for (FileDescriptor f : fds) {
            park = Math.max(park, f.getFd() + 1);
        }
        long[] stdio = new long[3];
        for (int slot = 0; slot < 3; slot++) {
            stdio[slot] = inject.check("park stdio " + slot, FCNTL, slot, F_DUPFD_CLOEXEC, park);
            inject.check("close " + slot, CLOSE, slot);
        }
        if (parked == null) {
            parked = new PipeBuilder(inject, memory, space.scratch(), hostPid).create(pipes, park);
            creator = lhPid;
            creatorInject = inject;
        }
        for (FileDescriptor f : fds) {
            long cloexec = f.getFlags() & O_CLOEXEC;
            Source sameAs = f.getFileId() == 0 || f.getKind() == FileDescriptor.Kind.STDIO_PIPE ? null : descriptions.get(f.getFileId());
            if (sameAs != null) {
                place(inject, lhPid, sameAs, f.getFd(), cloexec, park);
                continue;
            }
            switch (f.getKind()) {
                case STDIO_PIPE -> place(inject, lhPid, new Source(lhPid, stdio[f.getStdioSlot()]), f.getFd(), cloexec, park);
                case PIPE -> {
                    PipeBuilder.Ends ends = parked.get(f.getPipeId());
                    place(inject, lhPid, new Source(creator, f.getWriteEnd() ? ends.write() : ends.read()), f.getFd(), cloexec, park);
                }
                case SHARED_MEMORY -> {
                    if (shared == null) {
                        throw new IOException("fd " + f.getFd() + " names shared memory object " + f.getShmId() + ", which is not in the image");
                    }
                    SharedMemoryBuilder.Fd fd = shared.fd(f.getShmId(), lhPid, hostPid, inject, space);
                    inject.check("dup3 to fd " + f.getFd(), DUP3, fd.fd(), f.getFd(), cloexec);
                    if (fd.temporary()) {
                        inject.check("close", CLOSE, fd.fd());
                    }
                }
                default -> open(inject, space, f, cloexec);
            }
            if (f.getKind() == FileDescriptor.Kind.STDIO_PIPE || f.getKind() == FileDescriptor.Kind.PIPE) {
                inject.check("fcntl F_SETFL " + f.getFd(), FCNTL, f.getFd(), F_SETFL, f.getFlags() & SETFL_MASK);
            }
            if (f.getFileId() != 0) {
                descriptions.put(f.getFileId(), new Source(lhPid, f.getFd()));
            }
        }
        for (long fd : stdio) {
            inject.check("close parked stdio", CLOSE, fd);
        }
    }

    /** After every process' files: the pipes' parked ends go, so an end no process holds is closed. */
    void closeParked() throws TraceException {
        if (parked == null) {
            return;
        }
        for (PipeBuilder.Ends e : parked.values()) {
            creatorInject.check("close parked pipe", CLOSE, e.read());
            creatorInject.check("close parked pipe", CLOSE, e.write());
        }
        parked = Map.of();
    }

    /**
     * Makes {@code to} in process {@code lhPid} the open file description {@code from} holds. A
     * pidfd is kept at or above {@code park} (above every fd the process is to have), or closing
     * it could close an fd just placed.
     */
    private static void place(SyscallInjector inject, int lhPid, Source from, long to, long cloexec, int park)
            throws TraceException {
        if (from.pid() == lhPid) {
            inject.check("dup3 to fd " + to, DUP3, from.fd(), to, cloexec);
            return;
        }
        long pidfd = inject.check("pidfd_open " + from.pid(), PIDFD_OPEN, from.pid(), 0);
        if (pidfd < park) {
            long high = inject.check("move pidfd", FCNTL, pidfd, F_DUPFD_CLOEXEC, park);
            inject.check("close", CLOSE, pidfd);
            pidfd = high;
        }
        try {
            long taken = inject.check("pidfd_getfd fd " + from.fd() + " of " + from.pid(), PIDFD_GETFD, pidfd, from.fd(), 0);
            if (taken == to) {   // the lowest free fd was the one wanted; pidfd_getfd made it close-on-exec
                inject.check("fcntl F_SETFD " + to, FCNTL, to, F_SETFD, cloexec != 0 ? FD_CLOEXEC : 0);
            } else {
                inject.check("dup3 to fd " + to, DUP3, taken, to, cloexec);
                inject.check("close", CLOSE, taken);
            }
        } finally {
            inject.call(CLOSE, pidfd);
        }
    }

    private static void open(SyscallInjector inject, AddressSpaceBuilder space, FileDescriptor f, long cloexec)
            throws TraceException, IOException {
        int flags = f.getFlags() & ~(O_CREAT | O_EXCL | O_TRUNC);
        long fd = inject.check("open " + f.getPath() + " for fd " + f.getFd(), OPENAT, AT_FDCWD, space.string(f.getPath()), flags, 0);
        if (fd != f.getFd()) {
            inject.check("dup3 to fd " + f.getFd(), DUP3, fd, f.getFd(), cloexec);
            inject.check("close", CLOSE, fd);
        }
        if (f.getKind() == FileDescriptor.Kind.REGULAR || f.getKind() == FileDescriptor.Kind.DIRECTORY) {
            inject.check("lseek fd " + f.getFd(), LSEEK, f.getFd(), f.getPosition(), 0);
        }
    }
}
