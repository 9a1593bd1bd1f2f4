package dev.ferry.pm.migrate;

import dev.ferry.proto.v1.LhReceipt;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The destination's "round N applied" receipts. The source waits for each round's receipt
 * before it collects the next dirty set: then a round's time includes the destination's
 * writing (the copy rate the stop rule uses is the real one), and when the source freezes the
 * program no backlog of earlier rounds is still queued in the stream's window.
 */
final class RoundAcks implements Consumer<LhReceipt> {
    private int applied;
    private boolean ended;

    /** A receipt, or null when the stream ended. */
    @Override
    public synchronized void accept(LhReceipt receipt) {
        if (receipt == null) {
            ended = true;
        } else if (receipt.hasRoundApplied()) {
            applied = Math.max(applied, receipt.getRoundApplied());
        }
        notifyAll();
    }

    /** Waits until round {@code round} is applied; fails when the stream ends or {@code timeoutMs} pass. */
    synchronized void await(int round, long timeoutMs, BooleanSupplier failed) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (applied < round) {
            if (ended || failed.getAsBoolean()) {
                throw new IOException("the destination ended the transfer before applying round " + round);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("the destination did not apply round " + round + " within " + timeoutMs + " ms");
            }
            wait(Math.max(1, Math.min(100, left / 1_000_000L)));
        }
    }
}
