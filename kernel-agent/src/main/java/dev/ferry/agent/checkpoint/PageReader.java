package dev.ferry.agent.checkpoint;

import com.sun.jna.Native;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.proto.v1.Mapping;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reads the pages of a stopped process that must be carried: present or swapped, and not a
 * page-cache (file or shared) page, per /proc/PID/pagemap; for private file mappings that is
 * exactly their copied-on-write pages (all pages for a mapping whose file is gone or replaced).
 * Runs of up to 1 MiB are read with one process_vm_readv each, straight into a native buffer
 * the {@link PageSink} hands out; all-zero pages in them come out as zero runs.
 */
final class PageReader {
    static final int PAGE = 4096;
    static final int RUN = 1 << 20;
    private static final long PRESENT = 1L << 63, SWAPPED = 1L << 62, FILE_OR_SHARED = 1L << 61;

    private final int hostPid;
    private final int lhPid;
    private final RemoteMemory memory;

    PageReader(int hostPid, int lhPid, RemoteMemory memory) {
        this.hostPid = hostPid;
        this.lhPid = lhPid;
        this.memory = memory;
    }

    /** Sends the pages of every mapping to {@code sink} and records each mapping's carried page count; returns the total. */
    long read(List<Mapping.Builder> mappings, PageSink sink) throws IOException {
        long total = 0;
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc", Integer.toString(hostPid), "pagemap"), StandardOpenOption.READ)) {
            for (Mapping.Builder m : mappings) {
                if (m.getSpecial() == Mapping.Special.VDSO || m.getSpecial() == Mapping.Special.VVAR
                        || m.getSpecial() == Mapping.Special.VVAR_VCLOCK || m.getSpecial() == Mapping.Special.VSYSCALL
                        || m.getShared()) {
                    continue;   // the kernel provides these; shared file pages live in the file
                }
                long carried = m.getContentCarried() ? readWhole(m, sink) : readMapping(pagemap, m, sink);
                m.setCarriedPages(carried);
                total += carried;
            }
        }
        return total;
    }

    private long readMapping(FileChannel pagemap, Mapping.Builder m, PageSink sink) throws IOException {
        long pages = (m.getEnd() - m.getStart()) / PAGE;
        ByteBuffer entries = ByteBuffer.allocateDirect(RUN).order(ByteOrder.LITTLE_ENDIAN);   // pagemap of 512 MiB at a time
        boolean readable = (m.getProt() & 1) != 0;
        long carried = 0;
        for (long chunk = 0; chunk < pages; chunk += RUN / 8) {
            int n = (int) Math.min(RUN / 8, pages - chunk);
            entries.clear().limit(n * 8);
            long pos = (m.getStart() / PAGE + chunk) * 8;
            while (entries.hasRemaining()) {
                if (pagemap.read(entries, pos + entries.position()) <= 0) {
                    throw new IOException("short read of pagemap for " + Long.toHexString(m.getStart()));
                }
            }
            int i = 0;
            while (i < n) {
                if (!carry(entries.getLong(i * 8))) {
                    i++;
                    continue;
                }
                int runStart = i;
                while (i < n && carry(entries.getLong(i * 8)) && i - runStart < RUN / PAGE) {
                    i++;
                }
                long address = m.getStart() + (chunk + runStart) * PAGE;
                readRun(address, (i - runStart) * PAGE, readable, sink);
                carried += i - runStart;
            }
        }
        return carried;
    }

    /** Every page of the mapping, up to the first that cannot be read (past the end of a replaced file). */
    private long readWhole(Mapping.Builder m, PageSink sink) throws IOException {
        long carried = 0;
        for (long at = m.getStart(); at < m.getEnd(); at += RUN) {
            int length = (int) Math.min(RUN, m.getEnd() - at);
            try {
                readRun(at, length, false, sink);
            } catch (IOException pastTheEnd) {
                break;   // pages past the old end of file: the rebuilt mapping leaves them zero
            }
            carried += length / PAGE;
        }
        return carried;
    }

    /**
     * Reads one run of at most {@link #RUN} bytes and hands it to the sink (package-private for
     * pre-copy rounds). When reading a running process ({@link #tolerateChanges}), a run that
     * cannot be read because the program just unmapped or changed it is noted, not fatal.
     */
    void readRun(long address, int length, boolean readable, PageSink sink) throws IOException {
        ByteBuffer buf = sink.claim(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            memory.readInto(Native.getDirectBufferPointer(buf), address, length, readable);
        } catch (IOException e) {
            if (missed == null) {
                throw e;
            }
            missed.add(new dev.ferry.agent.dirty.PageRange(address, length));
            return;
        }
        emit(lhPid, address, buf, length, sink);
    }

    /** Runs that could not be read since the last call, and forgets them (null when not tolerating). */
    java.util.List<dev.ferry.agent.dirty.PageRange> takeMissed() {
        if (missed == null) {
            return java.util.List.of();
        }
        java.util.List<dev.ferry.agent.dirty.PageRange> out = java.util.List.copyOf(missed);
        missed.clear();
        return out;
    }

    /** From now on runs that cannot be read are noted ({@code true}) or fail the read ({@code false}). */
    void tolerateChanges(boolean tolerate) {
        missed = tolerate ? (missed == null ? new java.util.ArrayList<>() : missed) : null;
    }

    private java.util.List<dev.ferry.agent.dirty.PageRange> missed;

    static boolean carry(long entry) {
        return (entry & (PRESENT | SWAPPED)) != 0 && (entry & FILE_OR_SHARED) == 0;
    }

    /** Splits the run into data and zero runs (a data page usually fails the zero test at its first word). */
    static void emit(int lhPid, long address, ByteBuffer buf, int length, PageSink sink) throws IOException {
        int page = 0, pages = length / PAGE;
        while (page < pages) {
            boolean zero = isZero(buf, page);
            int first = page;
            while (page < pages && isZero(buf, page) == zero) {
                page++;
            }
            long at = address + (long) first * PAGE;
            if (zero) {
                sink.zero(lhPid, at, page - first);
            } else {
                sink.data(lhPid, at, buf, first * PAGE, (page - first) * PAGE);
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
