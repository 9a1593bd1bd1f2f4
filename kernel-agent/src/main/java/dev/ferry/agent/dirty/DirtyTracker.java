package dev.ferry.agent.dirty;

import dev.ferry.proto.v1.PageBatch;
import java.io.IOException;
import java.util.List;

/**
 * Finds the pages a running process writes, without its help: pre-copy sends only those each
 * round. Tracks every writable private mapping, including ones that appear later. Not thread
 * safe: one caller drives a tracker.
 *
 * <p>The pre-copy driver's part of the contract: {@link #start()} before round 1 is read; then
 * hand every round's batches to {@link #sent} (round 1's too) before the next {@link #collect()}.
 * The hash tracker compares page contents with what the destination holds and learns that only
 * from {@link #sent}. Without it, a page that changes after a collect, is read by the round and
 * changes back before the next collect is never reported again: the destination keeps the bytes
 * of the read.
 */
public interface DirtyTracker extends AutoCloseable {
    /** "soft-dirty", "uffd-wp" or "hash". */
    String name();

    /** Begins tracking every writable private mapping of the process. */
    void start() throws IOException;

    /**
     * The pages written since {@link #start()} or the previous collect, and re-arms. A write
     * that completes after this returns is reported by the next collect. For the hash tracker:
     * the pages whose content differs from what the rounds handed to {@link #sent} read (from
     * their content at the previous collect where no round read them).
     */
    DirtyPages collect() throws IOException;

    /**
     * What a pre-copy round read from this process and sent, in the order the rounds were read:
     * data pages and zero runs, after {@link #start()} and before the next {@link #collect()}.
     * The batches' data is only read during the call. Trackers that see writes rather than
     * contents (uffd-wp, soft-dirty) need nothing from it; the hash tracker takes each page's
     * bytes as the reference the next collect compares with.
     */
    default void sent(List<PageBatch> batches) {}

    /** Stops tracking and undoes what {@link #start()} did in the target; never throws. */
    @Override
    void close();
}
