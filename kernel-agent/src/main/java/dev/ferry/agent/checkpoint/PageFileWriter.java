package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import com.sun.jna.Memory;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.PageIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.zip.CRC32C;

/**
 * Streams page data into an image directory's pages file (pages.bin.tmp until
 * {@link ImageWriter#commit}) and builds its index. {@link #WRITERS} writer threads checksum
 * and write (each at its own offset) while the capturing thread reads the next pages into
 * another of {@link #BUFFERS} reusable 1 MiB native buffers: reading the process and writing
 * the file overlap, writing into fresh tmpfs pages (mostly page allocation) uses both cores,
 * and nothing is copied through the heap. Offsets are given out in arrival order, so the
 * file follows the index.
 */
final class PageFileWriter implements PageSink, AutoCloseable {
    static final int BUFFERS = 6, BUFFER_SIZE = 1 << 20;
    static final int WRITERS = Integer.getInteger("ferry.pageWriters", 1);   // tmpfs serialises writes to one file (inode lock): a second writer only contends
    private static final Runnable STOP = () -> { };

    private final Path file;
    private final FileChannel channel;
    private final boolean fsync;
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    private final List<PageBatch.Builder> entries = new ArrayList<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile IOException failure;
    private ByteBuffer current;
    private java.util.concurrent.atomic.AtomicInteger currentUsers;
    private long outstanding;   // queued writes not yet done; guarded by this
    private long offset;
    private boolean finished;

    PageFileWriter(Path dir, boolean fsync) throws IOException {
        this.file = dir.resolve(ImageWriter.PAGES + ".tmp");
        this.fsync = fsync;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new Memory(BUFFER_SIZE).getByteBuffer(0, BUFFER_SIZE));
        }
        for (int i = 0; i < WRITERS; i++) {
            Thread writer = new Thread(this::drain, "ferry-page-writer-" + i);
            writer.setDaemon(true);
            writer.start();
            writers.add(writer);
        }
    }

    private void drain() {
        for (;;) {
            Runnable r;
            try {
                r = work.take();
            } catch (InterruptedException e) {
                return;
            }
            if (r == STOP) {
                work.add(STOP);   // for the other writers
                return;
            }
            r.run();
        }
    }

    @Override
    public ByteBuffer claim(int length) throws IOException {
        check();
        if (length > BUFFER_SIZE) {
            throw new IOException("a claim of " + length + " bytes exceeds the " + BUFFER_SIZE + "-byte buffers");
        }
        handBack();
        try {
            current = free.take();
            currentUsers = new java.util.concurrent.atomic.AtomicInteger(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the page writer");
        }
        return current;
    }

    /** The last claimed buffer goes back to the free list once every write from it is done. */
    private void handBack() {
        if (current != null) {
            release(current, currentUsers);
            current = null;
        }
    }

    private void release(ByteBuffer buffer, java.util.concurrent.atomic.AtomicInteger users) {
        if (users.decrementAndGet() == 0) {
            free.add(buffer);
        }
    }

    @Override
    public void data(int pid, long address, ByteBuffer claimed, int off, int length) throws IOException {
        check();
        PageBatch.Builder entry = PageBatch.newBuilder().setPid(pid).setAddress(address).setDataOffset(offset)
                .setDataLength(length);
        entries.add(entry);
        long at = offset;
        offset += length;
        ByteBuffer slice = claimed.slice(off, length);
        synchronized (this) {
            outstanding++;
        }
        if (claimed == current) {
            ByteBuffer buffer = current;
            java.util.concurrent.atomic.AtomicInteger users = currentUsers;
            users.incrementAndGet();
            work.add(() -> {
                write(entry, slice, at);
                release(buffer, users);
            });
        } else {
            work.add(() -> write(entry, slice, at));
        }
    }

    /** Adds a batch that already holds its data (an in-memory capture being saved). */
    void add(PageBatch b) throws IOException {
        if (b.getData().isEmpty()) {
            zero(b.getPid(), b.getAddress(), b.getZeroPages());
            return;
        }
        ByteString data = b.getData();
        for (ByteBuffer part : data.asReadOnlyByteBufferList()) {
            if (part.remaining() != data.size()) {
                // a rope: copy into one of our buffers (never the case for captured pages)
                ByteBuffer buf = claim(data.size());
                data.copyTo(buf.clear());
                data(b.getPid(), b.getAddress(), buf, 0, data.size());
                return;
            }
            data(b.getPid(), b.getAddress(), part, part.position(), part.remaining());
        }
    }

    private void write(PageBatch.Builder entry, ByteBuffer slice, long at) {
        try {
            writeOne(entry, slice, at);
        } finally {
            synchronized (this) {
                if (--outstanding == 0) {
                    notifyAll();
                }
            }
        }
    }

    private void writeOne(PageBatch.Builder entry, ByteBuffer slice, long at) {
        if (failure != null) {
            return;
        }
        try {
            CRC32C crc = new CRC32C();
            crc.update(slice.duplicate());
            long pos = at;
            while (slice.hasRemaining()) {
                pos += channel.write(slice, pos);
            }
            synchronized (entry) {
                entry.setCrc32C((int) crc.getValue());
            }
        } catch (IOException e) {
            failure = e;
        }
    }

    @Override
    public void zero(int pid, long address, long pages) throws IOException {
        check();
        entries.add(PageBatch.newBuilder().setPid(pid).setAddress(address).setZeroPages(pages));
    }

    private void check() throws IOException {
        if (failure != null) {
            throw new IOException("writing " + file + ": " + failure.getMessage(), failure);
        }
    }

    /** Waits for every queued write, forces the file to disk if asked, and returns the index. */
    PageIndex finish() throws IOException {
        handBack();
        try {
            synchronized (this) {
                while (outstanding > 0) {
                    wait();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the page writers");
        }
        check();
        if (fsync) {
            channel.force(true);
        }
        finished = true;
        PageIndex.Builder index = PageIndex.newBuilder().setFormatVersion(ImageWriter.VERSION).setPagesFileLength(offset);
        for (PageBatch.Builder e : entries) {
            synchronized (e) {
                index.addBatches(e.build());
            }
        }
        return index.build();
    }

    long dataBytes() {
        return offset;
    }

    /** Stops the writer; without a finished index the temporary file is removed. */
    @Override
    public void close() throws IOException {
        work.add(STOP);
        try {
            for (Thread writer : writers) {
                writer.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.close();
        if (!finished) {
            Files.deleteIfExists(file);
        }
    }
}
