package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.ProcessImage;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Turns a stopped stub's address space into the captured one (DESIGN.md §5, rebuild steps
 * 2-4): a scratch page free in both layouts, every stub mapping unmapped but the vdso family,
 * which moves whole by one delta to where the program had it (clock_gettime keeps working),
 * then each mapping recreated at its address (MAP_FIXED_NOREPLACE; writable while its pages
 * are written), pages written with process_vm_writev, final protections set.
 */
final class AddressSpaceBuilder {
    static final int PAGE = 4096;
    private static final int WRITERS = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));

    private final SyscallInjector inject;
    private final RemoteMemory memory;
    private final PhaseTimer timer;
    private long scratch;
    private SharedMemoryBuilder shared;
    private int lhPid, hostPid;

    AddressSpaceBuilder(SyscallInjector inject, RemoteMemory memory, PhaseTimer timer) {
        this.inject = inject;
        this.memory = memory;
        this.timer = timer;
    }

    long scratch() {
        return scratch;
    }

    /** Where mappings of the LH's shared memory objects get them from; this is process {@code lhPid} ({@code hostPid}). */
    void sharedMemory(SharedMemoryBuilder shared, int lhPid, int hostPid) {
        this.shared = shared;
        this.lhPid = lhPid;
        this.hostPid = hostPid;
    }

    SyscallInjector inject() {
        return inject;
    }

    /** Writes a NUL-terminated string into the scratch page and returns its address. */
    long string(String s) throws IOException {
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_8);
        if (b.length > PAGE) {
            throw new IOException("path too long: " + s);
        }
        memory.write(scratch, b);
        return scratch;
    }

    void build(List<VmArea> stub, ProcessImage image, List<PageBatch> pages) throws TraceException, IOException, RebuildException {
        prepare(stub, image.getMappingsList());
        for (Mapping m : image.getMappingsList()) {
            if (isRegular(m)) {
                map(m, m.getStart(), m.getEnd(), m.getCarriedPages() > 0 ? m.getProt() | PROT_READ | PROT_WRITE : m.getProt());
            }
        }
        timer.mark("map");
        writePages(image, pages);
        timer.mark("write pages");
        for (Mapping m : image.getMappingsList()) {
            if (m.getCarriedPages() > 0 && (m.getProt() | PROT_READ | PROT_WRITE) != m.getProt()) {
                inject.check("mprotect", MPROTECT, m.getStart(), m.getEnd() - m.getStart(), m.getProt());
            }
        }
    }

    /**
     * Empties the stub for {@code mappings}: a scratch page free in both layouts, every stub
     * mapping unmapped but the vdso family, which moves to where the captured process had it.
     */
    void prepare(List<VmArea> stub, List<Mapping> mappings) throws TraceException, RebuildException {
        List<long[]> taken = new ArrayList<>();
        stub.forEach(a -> taken.add(new long[] {a.start(), a.end()}));
        mappings.forEach(m -> taken.add(new long[] {m.getStart(), m.getEnd()}));
        scratch = FreeAddress.find(PAGE, taken);
        inject.check("mmap scratch", MMAP, scratch, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        for (VmArea a : stub) {
            if (!a.isVdsoFamily() && !a.path().equals("[vsyscall]")) {
                inject.check("munmap stub " + a.path(), MUNMAP, a.start(), a.length());
            }
        }
        moveVdso(stub, mappings, taken);
    }

    /** Moves the scratch page when one of {@code mappings} now needs its address. */
    void keepScratchClearOf(List<Mapping> mappings) throws TraceException, RebuildException {
        boolean clash = mappings.stream().anyMatch(m -> m.getStart() < scratch + PAGE && scratch < m.getEnd());
        if (!clash) {
            return;
        }
        List<long[]> taken = new ArrayList<>();
        mappings.forEach(m -> taken.add(new long[] {m.getStart(), m.getEnd()}));
        taken.add(new long[] {scratch, scratch + PAGE});
        long moved = FreeAddress.find(PAGE, taken);
        inject.check("mremap scratch", MREMAP, scratch, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, moved);
        scratch = moved;
    }

    /** Mappings the rebuild creates itself (the kernel provides the vdso family and vsyscall). */
    static boolean isRegular(Mapping m) {
        return m.getSpecial() == Mapping.Special.NONE || m.getSpecial() == Mapping.Special.HEAP
                || m.getSpecial() == Mapping.Special.STACK;
    }

    void unmap(long from, long to) throws TraceException {
        inject.check("munmap " + Long.toHexString(from), MUNMAP, from, to - from);
    }

    /** Drops the pages of [at, at + length) of an anonymous mapping: they read as zeros again. */
    void discard(long at, long length) throws TraceException {
        inject.check("madvise dontneed " + Long.toHexString(at), MADVISE, at, length, MADV_DONTNEED);
    }

    void protect(long from, long to, int prot) throws TraceException {
        inject.check("mprotect " + Long.toHexString(from), MPROTECT, from, to - from, prot);
    }

    /** The kernel's vvar/vvar_vclock/vdso must keep their relative layout: one delta for all. */
    private void moveVdso(List<VmArea> stub, List<Mapping> mappings, List<long[]> taken) throws TraceException, RebuildException {
        List<VmArea> from = stub.stream().filter(VmArea::isVdsoFamily).sorted(Comparator.comparingLong(VmArea::start)).toList();
        List<Mapping> to = mappings.stream().filter(m -> m.getSpecial() == Mapping.Special.VDSO
                || m.getSpecial() == Mapping.Special.VVAR || m.getSpecial() == Mapping.Special.VVAR_VCLOCK)
                .sorted(Comparator.comparingLong(Mapping::getStart)).toList();
        if (from.size() != to.size() || from.isEmpty()) {
            throw new RebuildException("the vdso layout differs from the captured one (" + from.size() + " vs " + to.size() + " areas)");
        }
        long delta = to.get(0).getStart() - from.get(0).start();
        for (int i = 0; i < from.size(); i++) {
            Mapping m = to.get(i);
            if (m.getStart() - from.get(i).start() != delta || m.getEnd() - m.getStart() != from.get(i).length()) {
                throw new RebuildException("the vdso layout differs from the captured one (kernel mismatch)");
            }
        }
        if (delta == 0) {
            return;
        }
        long start = from.get(0).start(), end = from.get(from.size() - 1).end();
        if (start + delta < end && start < end + delta) {   // overlaps its own destination: go via a free range
            long via = FreeAddress.find(end - start, taken) - start;
            shift(from, via);
            shift(from.stream().map(a -> new VmArea(a.start() + via, a.end() + via, a.perms(), 0, 0, a.path(), List.of())).toList(),
                    delta - via);
        } else {
            shift(from, delta);
        }
        inject.relocate(delta);
    }

    private void shift(List<VmArea> areas, long delta) throws TraceException {
        for (VmArea a : areas) {
            inject.check("mremap " + a.path(), MREMAP, a.start(), a.length(), a.length(), MREMAP_MAYMOVE | MREMAP_FIXED,
                    a.start() + delta);
        }
    }

    /**
     * Maps [from, to) of {@code m} (all of it, or a piece the rebuild lacks) with {@code prot};
     * a file piece maps the file at the matching offset.
     */
    void map(Mapping m, long from, long to, int prot) throws TraceException, IOException {
        long length = to - from;
        int flags = (m.getShared() ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE | (m.getGrowsDown() ? MAP_GROWSDOWN : 0);
        long got;
        if (m.getShmId() != 0) {
            if (shared == null) {
                throw new IOException("a mapping of shared memory object " + m.getShmId() + " where none is known");
            }
            SharedMemoryBuilder.Fd fd = shared.fd(m.getShmId(), lhPid, hostPid, inject, this);
            try {
                got = inject.check("mmap shared memory " + m.getShmId(), MMAP, from, length, prot, MAP_SHARED | MAP_FIXED_NOREPLACE,
                        fd.fd(), m.getOffset() + (from - m.getStart()));
            } finally {
                if (fd.temporary()) {
                    inject.call(CLOSE, fd.fd());
                }
            }
        } else if (anonymous(m)) {
            got = inject.check("mmap anonymous " + Long.toHexString(from), MMAP, from, length, prot,
                    flags | MAP_ANONYMOUS, -1, 0);
        } else {
            int access = m.getShared() && (m.getProt() & PROT_WRITE) != 0 ? 2 : O_RDONLY;
            long fd = inject.check("open " + m.getPath(), OPENAT, AT_FDCWD, string(m.getPath()), access | O_CLOEXEC, 0);
            try {
                got = inject.check("mmap " + m.getPath(), MMAP, from, length, prot, flags, fd, m.getOffset() + (from - m.getStart()));
            } finally {
                inject.call(CLOSE, fd);
            }
        }
        if (got != from) {
            throw new IOException("mmap placed " + Long.toHexString(from) + " at " + Long.toHexString(got));
        }
        for (String f : m.getVmFlagsList()) {
            int advice = switch (f) {
                case "hg" -> MADV_HUGEPAGE;
                case "nh" -> MADV_NOHUGEPAGE;
                case "dd" -> MADV_DONTDUMP;
                case "dc" -> MADV_DONTFORK;
                case "wf" -> MADV_WIPEONFORK;
                default -> -1;
            };
            if (advice >= 0) {
                inject.check("madvise " + f, MADVISE, from, length, advice);
            }
        }
        if (HugePages.worthAsking(m)) {
            inject.check("madvise hugepage", MADVISE, from, length, MADV_HUGEPAGE);
        }
    }

    /**
     * Data batches go from where they lie (native memory of a capture, the mapped pages file of
     * an image) straight into the process: one process_vm_writev each, no copy in the JVM.
     * Zero batches are written only into file mappings; fresh anonymous memory reads as zeros.
     */
    private void writePages(ProcessImage image, List<PageBatch> pages) throws IOException {
        List<Mapping> maps = image.getMappingsList();
        List<RemoteMemory.Transfer> transfers = new ArrayList<>();
        int mi = 0;
        for (PageBatch b : pages) {
            if (b.getPid() != image.getPid()) {
                continue;
            }
            if (b.getData().isEmpty()) {
                while (mi < maps.size() && maps.get(mi).getEnd() <= b.getAddress()) {
                    mi++;
                }
                if (mi >= maps.size() || maps.get(mi).getStart() > b.getAddress()) {
                    mi = 0;
                    continue;
                }
                if (anonymous(maps.get(mi))) {
                    continue;
                }
                writeZeros(b.getAddress(), b.getZeroPages() * PAGE);
                continue;
            }
            long at = b.getAddress();
            for (ByteBuffer part : b.getData().asReadOnlyByteBufferList()) {
                int n = part.remaining();
                if (part.isDirect()) {
                    transfers.add(new RemoteMemory.Transfer(Native.getDirectBufferPointer(part).share(part.position()), at, n));
                } else {
                    writeThroughBuffer(part, at);
                }
                at += n;
            }
        }
        memory.writeAll(transfers, WRITERS);
    }

    static boolean anonymous(Mapping m) {
        return m.getPath().isEmpty() || m.getContentCarried();
    }

    void writeZeros(long at, long length) throws IOException {
        memory.buffer().clear(Math.min(length, RemoteMemory.BUFFER));
        while (length > 0) {
            int n = (int) Math.min(length, RemoteMemory.BUFFER);
            memory.writeFromBuffer(at, n);
            at += n;
            length -= n;
        }
    }

    void writeThroughBuffer(ByteBuffer part, long at) throws IOException {
        while (part.hasRemaining()) {
            int n = Math.min(part.remaining(), RemoteMemory.BUFFER);
            ByteBuffer chunk = part.slice(part.position(), n);
            memory.buffer().getByteBuffer(0, n).put(chunk);
            memory.writeFromBuffer(at, n);
            part.position(part.position() + n);
            at += n;
        }
    }
}
