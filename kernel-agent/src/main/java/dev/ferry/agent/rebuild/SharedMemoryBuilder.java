package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.SharedMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Recreates the LH's shared memory objects, each once, in the first process that needs one
 * (to map it or to hold it open), and hands the others the same object: the creator keeps an fd
 * of it parked above its own fds until {@link #closeParked}, and every other process takes that
 * fd with an injected pidfd_open + pidfd_getfd. An anonymous object (MAP_SHARED|MAP_ANONYMOUS)
 * is made by mapping one and opening /proc/self/map_files of it (which needs the capability
 * the stubs still have), a memfd by memfd_create. The content is written from this JVM through
 * /proc/PID/fd of the parked fd, so it is the object's whole content wherever it is mapped.
 */
final class SharedMemoryBuilder {
    private static final int O_RDWR = 2;

    /** Where an object was made: process (pid in the LH, host pid) and its parked fd. */
    private record Made(int pid, int hostPid, long fd, SyscallInjector inject) {}

    /** An fd of an object in the asking process; {@code temporary}: close it once used. */
    record Fd(long fd, boolean temporary) {}

    private final Map<Integer, SharedMemory> objects = new HashMap<>();
    private final List<PageBatch> pages;
    private final Map<Integer, Made> made = new HashMap<>();
    private final int park;

    /**
     * {@code pages}: the image's batches (those of pid 0 are the objects' content); {@code park}:
     * an fd number above every fd any process of the image has, where the creators keep theirs.
     */
    SharedMemoryBuilder(List<SharedMemory> objects, List<PageBatch> pages, int park) {
        objects.forEach(o -> this.objects.put(o.getId(), o));
        this.pages = pages;
        this.park = park;
    }

    /** An fd of object {@code id} in process {@code lhPid}, making the object if it is the first to ask. */
    Fd fd(int id, int lhPid, int hostPid, SyscallInjector inject, AddressSpaceBuilder space) throws TraceException, IOException {
        Made m = made.get(id);
        if (m == null) {
            m = make(id, lhPid, hostPid, inject, space);
            made.put(id, m);
        }
        if (m.pid() == lhPid) {
            return new Fd(m.fd(), false);
        }
        long pidfd = inject.check("pidfd_open " + m.pid(), PIDFD_OPEN, m.pid(), 0);
        try {
            return new Fd(inject.check("pidfd_getfd of shared memory " + id, PIDFD_GETFD, pidfd, m.fd(), 0), true);
        } finally {
            inject.call(CLOSE, pidfd);
        }
    }

    private Made make(int id, int lhPid, int hostPid, SyscallInjector inject, AddressSpaceBuilder space)
            throws TraceException, IOException {
        SharedMemory o = objects.get(id);
        if (o == null) {
            throw new IOException("shared memory object " + id + " is not in the image");
        }
        long fd;
        if (o.getKind() == SharedMemory.Kind.MEMFD) {
            fd = inject.check("memfd_create " + o.getName(), MEMFD_CREATE, space.string(o.getName()), 0);
            inject.check("ftruncate memfd", FTRUNCATE, fd, o.getSize());
        } else {
            long at = inject.check("mmap shared anonymous", MMAP, 0, o.getSize(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            try {
                String file = "/proc/self/map_files/" + Long.toHexString(at) + "-" + Long.toHexString(at + pageAligned(o.getSize()));
                fd = inject.check("open " + file, OPENAT, AT_FDCWD, space.string(file), O_RDWR | O_CLOEXEC, 0);
            } finally {
                inject.call(MUNMAP, at, o.getSize());
            }
        }
        long parked = inject.check("park shared memory", FCNTL, fd, F_DUPFD_CLOEXEC, park);
        inject.check("close", CLOSE, fd);
        fill(o, hostPid, parked);
        return new Made(lhPid, hostPid, parked, inject);
    }

    /** Writes the object's data pages (pid 0 batches in [base, base + size)) through /proc/PID/fd. */
    private void fill(SharedMemory o, int hostPid, long fd) throws IOException {
        try (FileChannel out = FileChannel.open(Path.of("/proc", Integer.toString(hostPid), "fd", Long.toString(fd)),
                StandardOpenOption.WRITE)) {
            for (PageBatch b : pages) {
                if (b.getPid() != 0 || b.getData().isEmpty() || b.getAddress() < o.getBase() || b.getAddress() >= o.getBase() + o.getSize()) {
                    continue;
                }
                long at = b.getAddress() - o.getBase();
                for (ByteBuffer part : b.getData().asReadOnlyByteBufferList()) {
                    int keep = (int) Math.min(part.remaining(), o.getSize() - at);   // the object may end inside its last page
                    ByteBuffer slice = part.slice(part.position(), Math.max(keep, 0));
                    while (slice.hasRemaining()) {
                        at += out.write(slice, at);
                    }
                    at += part.remaining() - Math.max(keep, 0);
                }
            }
        }
    }

    private static long pageAligned(long size) {
        return (size + AddressSpaceBuilder.PAGE - 1) & ~(long) (AddressSpaceBuilder.PAGE - 1);
    }

    /** After every process has its mappings and fds: the creators' parked fds go. */
    void closeParked() throws TraceException {
        for (Made m : made.values()) {
            m.inject().check("close parked shared memory", CLOSE, m.fd());
        }
        made.clear();
    }
}
