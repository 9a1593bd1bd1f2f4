package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageBatch;
import java.util.List;
import java.util.Objects;

/**
 * A captured logical host: its metadata and its pages (in address order per process). Page
 * data never lives on the Java heap: a fresh capture holds it in native memory, an image read
 * from a directory maps its pages file; the batches wrap that memory without copying.
 */
public final class CapturedLh {
    private final LhImage image;
    private final List<PageBatch> pages;

    public CapturedLh(LhImage image, List<PageBatch> pages) {
        this.image = Objects.requireNonNull(image);
        this.pages = List.copyOf(pages);
    }

    public LhImage image() {
        return image;
    }

    public List<PageBatch> pages() {
        return pages;
    }

    /**
     * The bytes that were still unread in the program's stdin pipe when it was captured.
     * {@link dev.ferry.agent.LhLauncher#restore} writes them into the new stdin pipe before the
     * program runs again, so the caller must not write them a second time.
     */
    public byte[] pendingStdin() {
        return image.getPendingStdin().toByteArray();
    }

    /** Bytes of page data carried (zero runs not counted). */
    public long dataBytes() {
        long n = 0;
        for (PageBatch b : pages) {
            n += b.getData().size();
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CapturedLh c && image.equals(c.image) && pages.equals(c.pages);
    }

    @Override
    public int hashCode() {
        return image.hashCode();
    }
}
