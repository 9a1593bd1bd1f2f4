package dev.ferry.agent.dirty;

import java.io.IOException;

/**
 * Finds the pages a running process writes, without its help: pre-copy sends only those each
 * round. Tracks every writable private mapping, including ones that appear later. Not thread
 * safe: one caller drives a tracker.
 */
public interface DirtyTracker extends AutoCloseable {
    /** "soft-dirty", "uffd-wp" or "hash". */
    String name();

    /** Begins tracking every writable private mapping of the process. */
    void start() throws IOException;

    /**
     * The pages written since {@link #start()} or the previous collect, and re-arms. A write
     * that completes after this returns is reported by the next collect.
     */
    DirtyPages collect() throws IOException;

    /** Stops tracking and undoes what {@link #start()} did in the target; never throws. */
    @Override
    void close();
}
