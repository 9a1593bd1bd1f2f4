package dev.ferry.pm.lh;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * Feeds a program's stdin pipe from chunks addressed by offset, on its own thread (a write
 * blocks while the program does not read, and must never block a network thread).
 *
 * <p>A chunk that repeats bytes already written (a client resending after it re-attached) is
 * trimmed, so every byte reaches the program exactly once. After each chunk, the consumer
 * given to {@link #submit} learns the new consumed offset (for the client's ack and for flow
 * control).
 */
public final class StdinSink {
    private static final Logger LOG = Logger.getLogger(StdinSink.class.getName());
    private record Chunk(long offset, byte[] data, boolean eof, LongConsumer done) {}

    private final OutputStream pipe;
    private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(64);
    private final Thread writer;
    private volatile long written;
    private volatile boolean closed;
    private boolean paused;
    private boolean writing;

    public StdinSink(OutputStream pipe, String name) {
        this(pipe, name, 0);
    }

    /** @param written stdin offset already consumed before (an LH that moved here continues it) */
    public StdinSink(OutputStream pipe, String name, long written) {
        this.written = written;
        this.pipe = pipe;
        this.writer = new Thread(this::drain, "stdin-" + name);
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Offset up to which stdin has been written into the pipe. */
    public long written() {
        return written;
    }

    /** Queues a chunk; blocks while 64 chunks wait (the caller should not read faster). */
    public void submit(long offset, byte[] data, boolean eof, LongConsumer done) throws InterruptedException {
        queue.put(new Chunk(offset, data, eof, done));
    }

    private void drain() {
        try {
            while (true) {
                Chunk c = queue.take();
                synchronized (this) {
                    while (paused) {
                        wait();
                    }
                    writing = true;
                }
                try {
                    write(c);
                } finally {
                    synchronized (this) {
                        writing = false;
                        notifyAll();
                    }
                }
                c.done().accept(written);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops writing (for a migration's freeze) and returns the offset written so far; chunks
     * that arrive meanwhile wait, unacknowledged, so the client resends them wherever the LH
     * goes next.
     */
    public synchronized long pause() throws InterruptedException {
        paused = true;
        while (writing) {
            wait();
        }
        return written;
    }

    /** Writes again (the migration was rolled back). */
    public synchronized void resume() {
        paused = false;
        notifyAll();
    }

    /**
     * The LH left this host: drop what waits without writing or acknowledging it (the
     * destination gets it from the client) and stop.
     */
    public void abandon() {
        queue.clear();
        writer.interrupt();
    }

    private void write(Chunk c) {
        if (closed) {
            return;
        }
        long end = c.offset() + c.data().length;
        if (c.offset() > written) {
            // A gap means the client lost track; writing would corrupt the stream.
            LOG.warning("stdin chunk at " + c.offset() + " skips bytes after " + written + "; ignored");
            return;
        }
        try {
            if (end > written) {
                int skip = (int) (written - c.offset());
                pipe.write(c.data(), skip, c.data().length - skip);
                pipe.flush();
                written = end;
            }
            if (c.eof()) {
                close();
            }
        } catch (IOException e) {
            // The program closed its stdin or exited: what it did not read is dropped, as locally.
            written = Math.max(written, end);
            close();
        }
    }

    /** Closes the pipe: the program reads end of file. */
    public void close() {
        if (!closed) {
            closed = true;
            try {
                pipe.close();
            } catch (IOException ignored) {
                // already closed by the other side
            }
        }
    }

    public void stop() {
        close();
        writer.interrupt();
    }
}
