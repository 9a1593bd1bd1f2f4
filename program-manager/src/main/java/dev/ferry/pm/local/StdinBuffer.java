package dev.ferry.pm.local;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Stdin bytes sent to an LH but not yet acknowledged as written into the program's pipe.
 * They are resent after a re-attach; {@link #add} waits while too many are outstanding,
 * which slows the user's command down to the program's reading speed.
 */
final class StdinBuffer {
    interface Sender {
        void send(long offset, byte[] data, boolean eof);
    }

    private record Piece(long offset, byte[] data, boolean eof) {}

    private final long limit;
    private final Deque<Piece> pending = new ArrayDeque<>();
    private long nextOffset;
    private long acked;
    private long pendingBytes;

    StdinBuffer(long limit) {
        this.limit = limit;
    }

    synchronized void add(byte[] data, boolean eof, Sender sender) throws InterruptedException {
        while (pendingBytes >= limit) {
            wait();
        }
        Piece p = new Piece(nextOffset, data, eof);
        pending.addLast(p);
        nextOffset += data.length;
        pendingBytes += data.length;
        sender.send(p.offset(), p.data(), p.eof());
    }

    synchronized void acked(long offset) {
        acked = Math.max(acked, offset);
        while (!pending.isEmpty()) {
            Piece p = pending.peekFirst();
            // The end-of-file mark is never dropped: resending it after a re-attach is harmless
            // (a closed stdin ignores it), losing it would leave the program waiting forever.
            if (p.eof() || p.offset() + p.data().length > acked) {
                break;
            }
            pending.removeFirst();
            pendingBytes -= p.data().length;
        }
        notifyAll();
    }

    /** Runs {@code r} with this buffer locked: no chunk is added (and sent) meanwhile. */
    synchronized void whileHeld(Runnable r) {
        r.run();
    }

    /** Resends everything not yet acknowledged, in order. */
    synchronized void replay(Sender sender) {
        for (Piece p : pending) {
            sender.send(p.offset(), p.data(), p.eof());
        }
    }
}
