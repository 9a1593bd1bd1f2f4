package dev.ferry.pm.lh;

import java.util.Arrays;

/**
 * One output stream of a logical host (stdout or stderr) as a byte log addressed by offset.
 *
 * <p>Bytes are kept from the last acknowledged offset on, so a client that loses its
 * connection (or follows the LH to another host) can ask again from where it stopped: no byte
 * is lost or delivered twice. The log holds at most {@code capacity} unacknowledged bytes;
 * beyond that {@link #append} blocks, which stops the pump reading the program's pipe, which
 * blocks the program's writes: the pipe itself is the flow control.
 */
public final class OutputLog {
    private final int capacity;
    private byte[] buf;
    private int head;        // index in buf of the byte at offset base
    private long base;       // offset of buf[head]: everything before it was acknowledged
    private int length;      // bytes held, from base
    private boolean closed;
    private final Object signal;

    public OutputLog(int capacity) {
        this(capacity, 0, new Object());
    }

    /**
     * A log whose first byte has offset {@code base} (an LH that moved here continues its
     * streams); {@code signal} is notified of every change too, so one reader can wait for
     * either of two logs.
     */
    public OutputLog(int capacity, long base, Object signal) {
        this.signal = signal;
        this.capacity = capacity;
        this.base = base;
        this.buf = new byte[Math.min(capacity, 64 * 1024)];
    }

    /** Appends bytes, waiting while the log is full. */
    public void append(byte[] data, int off, int len) throws InterruptedException {
        synchronized (this) {
            int done = 0;
            while (done < len) {
                while (length >= capacity && !closed) {
                    wait();
                }
                if (closed) {
                    return;
                }
                int n = Math.min(len - done, capacity - length);
                ensureRoom(n);
                System.arraycopy(data, off + done, buf, head + length, n);
                length += n;
                done += n;
                notifyAll();
            }
        }
        signalChange();   // outside this monitor: a waiter holds the signal's monitor and then asks for end()
    }

    /**
     * Never called holding this log's lock: a reader holds the signal while it asks the logs
     * for their ends (signal, then log), so the other order deadlocks (it did: the output of a
     * busy program stopped for good).
     */
    private void signalChange() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Makes room for n more bytes after the held ones: compact first, grow only if needed. */
    private void ensureRoom(int n) {
        if (head + length + n <= buf.length) {
            return;
        }
        if (length + n > buf.length) {
            byte[] bigger = new byte[Math.min(Math.max(capacity, length + n), Math.max(length + n, buf.length * 2))];
            System.arraycopy(buf, head, bigger, 0, length);
            buf = bigger;
        } else {
            System.arraycopy(buf, head, buf, 0, length);
        }
        head = 0;
    }

    /** The program closed the stream: readers see end of stream after the last byte. */
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        signalChange();
    }

    /** Offset one past the last byte ever appended. */
    public synchronized long end() {
        return base + length;
    }

    public synchronized boolean closed() {
        return closed;
    }

    /** True when closed and a reader at {@code from} has seen everything. */
    public synchronized boolean finishedAt(long from) {
        return closed && from >= base + length;
    }

    /**
     * Bytes from {@code from} on (at most {@code max}), waiting up to {@code waitMillis} for
     * some to arrive. Returns an empty array at end of stream or on time-out.
     *
     * @throws IllegalArgumentException if {@code from} was already acknowledged and forgotten
     */
    public synchronized byte[] read(long from, int max, long waitMillis) throws InterruptedException {
        if (from < base) {
            throw new IllegalArgumentException("offset " + from + " was acknowledged already (log starts at " + base + ")");
        }
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        while (from >= base + length && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return new byte[0];
            }
            wait(Math.max(1, left / 1_000_000L));
        }
        int start = (int) (from - base);
        int n = Math.min(max, length - start);
        return n <= 0 ? new byte[0] : Arrays.copyOfRange(buf, head + start, head + start + n);
    }

    /** Forget every byte before {@code offset}: the client has it. */
    public synchronized void ack(long offset) {
        if (offset <= base) {
            return;
        }
        int drop = (int) Math.min(length, offset - base);
        head += drop;
        length -= drop;
        if (length == 0) {
            head = 0;
        }
        base += drop;
        notifyAll();
    }

    /** Wakes readers (used when something else they wait for changed, such as the exit). */
    public void poke() {
        synchronized (this) {
            notifyAll();
        }
        signalChange();
    }
}
