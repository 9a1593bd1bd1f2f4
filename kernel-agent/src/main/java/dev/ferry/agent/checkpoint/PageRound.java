package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.PageBatch;
import java.util.List;

/**
 * The pages one pre-copy round read from a running process: data and zero runs in address
 * order, their data in native memory (as a capture's batches). A later round's page overrides
 * what an earlier round sent for the same address.
 */
public final class PageRound {
    private final List<PageBatch> batches;
    private final long nanos;

    PageRound(List<PageBatch> batches, long nanos) {
        this.batches = List.copyOf(batches);
        this.nanos = nanos;
    }

    public List<PageBatch> batches() {
        return batches;
    }

    /** Bytes of page data (zero runs excluded). */
    public long dataBytes() {
        return batches.stream().mapToLong(b -> b.getData().size()).sum();
    }

    /** Pages covered, data and zero. */
    public long pages() {
        return batches.stream().mapToLong(b -> b.getData().size() / PageReader.PAGE + b.getZeroPages()).sum();
    }

    /** How long reading the round took. */
    public long nanos() {
        return nanos;
    }

    @Override
    public String toString() {
        return pages() + " pages (" + dataBytes() / 1024 + " KiB data) in " + nanos / 1_000_000.0 + " ms";
    }
}
