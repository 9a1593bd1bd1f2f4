package dev.ferry.agent.checkpoint;

import com.google.protobuf.UnsafeByteOperations;
import com.sun.jna.Memory;
import dev.ferry.proto.v1.PageBatch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps captured pages in native memory (malloc, outside the Java heap and outside the direct
 * buffer limit), each claim its own block, so a large capture needs no large heap. The batches
 * wrap the blocks without copying; JNA keeps a block alive as long as a view of it is reachable.
 */
final class MemoryPageSink implements PageSink {
    private final List<PageBatch> batches = new ArrayList<>();

    @Override
    public ByteBuffer claim(int length) {
        return new Memory(length).getByteBuffer(0, length);
    }

    @Override
    public void data(int pid, long address, ByteBuffer claimed, int offset, int length) {
        ByteBuffer slice = claimed.slice(offset, length);
        batches.add(PageBatch.newBuilder().setPid(pid).setAddress(address).setData(UnsafeByteOperations.unsafeWrap(slice)).build());
    }

    @Override
    public void zero(int pid, long address, long pages) {
        batches.add(PageBatch.newBuilder().setPid(pid).setAddress(address).setZeroPages(pages).build());
    }

    List<PageBatch> batches() {
        return batches;
    }
}
