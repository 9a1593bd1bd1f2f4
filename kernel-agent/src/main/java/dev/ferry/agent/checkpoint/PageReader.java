package dev.ferry.agent.checkpoint;

import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads the pages of a stopped process that must be carried: present or swapped, and not a
 * page-cache (file or shared) page, per /proc/PID/pagemap; for private file mappings that is
 * exactly their copied-on-write pages. Pages come out in batches of at most 1 MiB; runs of
 * all-zero pages come out as zero batches without data.
 */
final class PageReader {
    static final int PAGE = 4096;
    private static final long PRESENT = 1L << 63, SWAPPED = 1L << 62, FILE_OR_SHARED = 1L << 61;

    private final int hostPid;
    private final int lhPid;
    private final RemoteMemory memory;

    PageReader(int hostPid, int lhPid, RemoteMemory memory) {
        this.hostPid = hostPid;
        this.lhPid = lhPid;
        this.memory = memory;
    }

    /** Emits the batches of every mapping and records each mapping's carried page count; returns the total. */
    long read(List<Mapping.Builder> mappings, Consumer<PageBatch> out) throws IOException {
        long total = 0;
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc", Integer.toString(hostPid), "pagemap"), StandardOpenOption.READ)) {
            for (Mapping.Builder m : mappings) {
                if (m.getSpecial() == Mapping.Special.VDSO || m.getSpecial() == Mapping.Special.VVAR
                        || m.getSpecial() == Mapping.Special.VVAR_VCLOCK || m.getSpecial() == Mapping.Special.VSYSCALL
                        || m.getShared()) {
                    continue;   // the kernel provides these; shared file pages live in the file
                }
                long carried = readMapping(pagemap, m, out);
                m.setCarriedPages(carried);
                total += carried;
            }
        }
        return total;
    }

    private long readMapping(FileChannel pagemap, Mapping.Builder m, Consumer<PageBatch> out) throws IOException {
        int pages = (int) ((m.getEnd() - m.getStart()) / PAGE);
        ByteBuffer entries = ByteBuffer.allocateDirect(pages * 8).order(ByteOrder.LITTLE_ENDIAN);
        long pos = m.getStart() / PAGE * 8;
        while (entries.hasRemaining()) {
            int n = pagemap.read(entries, pos + entries.position());
            if (n <= 0) {
                throw new IOException("short read of pagemap for " + Long.toHexString(m.getStart()));
            }
        }
        boolean readable = (m.getProt() & 1) != 0;
        long carried = 0;
        int i = 0;
        while (i < pages) {
            if (!carry(entries.getLong(i * 8))) {
                i++;
                continue;
            }
            int runStart = i;
            while (i < pages && carry(entries.getLong(i * 8)) && i - runStart < RemoteMemory.BUFFER / PAGE) {
                i++;
            }
            long address = m.getStart() + (long) runStart * PAGE;
            int length = (i - runStart) * PAGE;
            memory.readIntoBuffer(address, length, readable);
            emit(address, length, out);
            carried += i - runStart;
        }
        return carried;
    }

    private static boolean carry(long entry) {
        return (entry & (PRESENT | SWAPPED)) != 0 && (entry & FILE_OR_SHARED) == 0;
    }

    /** Splits the buffer into data batches and zero batches. */
    private void emit(long address, int length, Consumer<PageBatch> out) {
        ByteBuffer buf = memory.buffer().getByteBuffer(0, length).order(ByteOrder.LITTLE_ENDIAN);
        int page = 0, pages = length / PAGE;
        while (page < pages) {
            boolean zero = isZero(buf, page);
            int first = page;
            while (page < pages && isZero(buf, page) == zero) {
                page++;
            }
            long at = address + (long) first * PAGE;
            if (zero) {
                out.accept(PageBatch.newBuilder().setPid(lhPid).setAddress(at).setZeroPages(page - first).build());
            } else {
                byte[] data = new byte[(page - first) * PAGE];
                buf.get(first * PAGE, data);
                out.accept(PageBatch.newBuilder().setPid(lhPid).setAddress(at)
                        .setData(UnsafeByteOperations.unsafeWrap(data)).build());
            }
        }
    }

    private static boolean isZero(ByteBuffer buf, int page) {
        int base = page * PAGE;
        for (int off = 0; off < PAGE; off += 8) {
            if (buf.getLong(base + off) != 0) {
                return false;
            }
        }
        return true;
    }
}
