package dev.ferry.agent.checkpoint;

import java.io.IOException;
import dev.ferry.proto.v1.Mapping;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where captured page data goes, run by run, in address order per process. The reader asks
 * for a native buffer, fills it straight from the process (process_vm_readv), then tells the
 * sink which parts are data and which are runs of zero pages, so page bytes are copied once.
 */
public interface PageSink {
    /** A native (direct) buffer of at least {@code length} bytes to fill; the previous one is handed back. */
    ByteBuffer claim(int length) throws IOException;

    /** Bytes [offset, offset + length) of the buffer last claimed are the pages at {@code address}. */
    void data(int pid, long address, ByteBuffer claimed, int offset, int length) throws IOException;

    /** {@code pages} pages of zeros at {@code address}. */
    void zero(int pid, long address, long pages) throws IOException;

    /** A pre-copy round's mappings, before its pages (captures do not call it). */
    default void layout(List<Mapping> mappings) throws IOException {}
}
