package dev.ferry.agent.dirty;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import dev.ferry.agent.linux.jna.DirtyCalls;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * /proc/PID/pagemap held open as a raw fd: read as 64-bit entries per page (soft-dirty and
 * hash trackers) or asked with the PAGEMAP_SCAN ioctl (uffd-wp tracker).
 */
final class Pagemap implements AutoCloseable {
    static final long PRESENT = 1L << 63, SWAPPED = 1L << 62, FILE_SHARED = 1L << 61, SOFT_DIRTY = 1L << 55;
    /** Entries read per pread: 512 KiB of entries cover 256 MiB. */
    static final int CHUNK_PAGES = 1 << 16;

    private static final DirtyCalls C = DirtyCalls.INSTANCE;

    private final int pid;
    private final int fd;
    private final Memory entries = new Memory(CHUNK_PAGES * 8L);

    Pagemap(int pid) throws IOException {
        this.pid = pid;
        try {
            fd = C.open("/proc/" + pid + "/pagemap", DirtyCalls.O_RDONLY | DirtyCalls.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open /proc/" + pid + "/pagemap: errno " + e.getErrorCode(), e);
        }
    }

    int fd() {
        return fd;
    }

    /** Receives the entries of consecutive pages, {@code first} being the address of the first. */
    interface EntryConsumer {
        void accept(long first, LongBuffer entries) throws IOException;
    }

    /** Reads the entries of {@code range} a chunk at a time. */
    void read(PageRange range, EntryConsumer consumer) throws IOException {
        for (long at = range.start(); at < range.end(); ) {
            int pages = (int) Math.min(CHUNK_PAGES, (range.end() - at) / PageRange.PAGE);
            long want = pages * 8L;
            long got;
            try {
                got = C.pread(fd, entries, want, at / PageRange.PAGE * 8);
            } catch (LastErrorException e) {
                throw new IOException("reading /proc/" + pid + "/pagemap at 0x" + Long.toHexString(at) + ": errno "
                        + e.getErrorCode(), e);
            }
            if (got != want) {
                throw new IOException("short read of /proc/" + pid + "/pagemap: " + got + " of " + want);
            }
            consumer.accept(at, entries.getByteBuffer(0, want).order(ByteOrder.nativeOrder()).asLongBuffer());
            at += want / 8 * PageRange.PAGE;
        }
    }

    /** The runs of pages whose entries satisfy {@code test}, as ranges (the parsing soft-dirty relies on). */
    static List<PageRange> runs(long first, LongBuffer entries, LongPredicate test) {
        List<PageRange> out = new ArrayList<>();
        long runStart = -1;
        int n = entries.remaining();
        for (int i = 0; i < n; i++) {
            long address = first + i * PageRange.PAGE;
            if (test.test(entries.get(entries.position() + i))) {
                if (runStart < 0) {
                    runStart = address;
                }
            } else if (runStart >= 0) {
                out.add(PageRange.between(runStart, address));
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            out.add(PageRange.between(runStart, first + n * PageRange.PAGE));
        }
        return out;
    }

    static boolean softDirty(long entry) {
        return (entry & SOFT_DIRTY) != 0;
    }

    static boolean present(long entry) {
        return (entry & PRESENT) != 0;
    }

    static boolean swapped(long entry) {
        return (entry & SWAPPED) != 0;
    }

    @Override
    public void close() {
        try {
            C.close(fd);
        } catch (LastErrorException e) {
            // nothing left to release
        }
    }
}
