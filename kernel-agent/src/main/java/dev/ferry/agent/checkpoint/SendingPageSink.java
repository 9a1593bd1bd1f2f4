package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import dev.ferry.agent.dirty.PageRange;
import dev.ferry.agent.dirty.RangeSet;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Hands each run of a pre-copy round to a sender as soon as it is read (one reused native
 * buffer, one copy into the message), so a round of any size needs only one run of memory and
 * reading overlaps sending. Counts what it sent and remembers where data went: the source must
 * later tell the destination about data pages the program has since discarded.
 */
public final class SendingPageSink implements PageSink {
    /** Takes a round's layout, then its batches (several at once); may block (flow control). */
    @FunctionalInterface
    public interface Sender {
        void send(List<PageBatch> batches) throws IOException;

        default void layout(List<Mapping> mappings) throws IOException {}
    }

    /**
     * Batches are handed over in groups of up to this many data bytes: a dirty round is
     * mostly scattered single pages, and a message (and a tracer-thread hand-off at the
     * destination) per page cost more than the pages themselves.
     */
    private static final int GROUP_BYTES = 1 << 20, GROUP_BATCHES = 4096;
    private final List<PageBatch> group = new ArrayList<>();
    private int groupBytes;

    private final Sender sender;
    private ByteBuffer buffer;
    private long dataBytes;
    private long pages;
    private final List<PageRange> data = new ArrayList<>();
    private final List<PageRange> zeros = new ArrayList<>();

    public SendingPageSink(Sender sender) {
        this.sender = sender;
    }

    @Override
    public void layout(List<Mapping> mappings) throws IOException {
        flush();
        sender.layout(mappings);
    }

    private void add(PageBatch batch, int bytes) throws IOException {
        if (groupBytes + bytes > GROUP_BYTES || group.size() == GROUP_BATCHES) {
            flush();
        }
        group.add(batch);
        groupBytes += bytes;
    }

    /** Hands over the batches held back; call at the end of a round. */
    public void flush() throws IOException {
        if (!group.isEmpty()) {
            sender.send(List.copyOf(group));
            group.clear();
            groupBytes = 0;
        }
    }

    @Override
    public ByteBuffer claim(int length) {
        if (buffer == null || buffer.capacity() < length) {
            buffer = ByteBuffer.allocateDirect(Math.max(length, PageReader.RUN));
        }
        return buffer.clear();
    }

    @Override
    public void data(int pid, long address, ByteBuffer claimed, int offset, int length) throws IOException {
        add(PageBatch.newBuilder().setPid(pid).setAddress(address)
                .setData(ByteString.copyFrom(claimed.slice(offset, length))).build(), length);
        dataBytes += length;
        pages += length / PageReader.PAGE;
        data.add(new PageRange(address, length));
    }

    @Override
    public void zero(int pid, long address, long count) throws IOException {
        add(PageBatch.newBuilder().setPid(pid).setAddress(address).setZeroPages(count).build(), 0);
        pages += count;
        zeros.add(new PageRange(address, count * PageReader.PAGE));
    }

    /** Bytes of page data sent (zero runs excluded). */
    public long dataBytes() {
        return dataBytes;
    }

    /** Pages covered, data and zero runs. */
    public long pages() {
        return pages;
    }

    /** Where the destination now holds data from this round. */
    public RangeSet dataRanges() {
        return RangeSet.of(data);
    }

    /** Where the destination now holds zeros from this round. */
    public RangeSet zeroRanges() {
        return RangeSet.of(zeros);
    }
}
