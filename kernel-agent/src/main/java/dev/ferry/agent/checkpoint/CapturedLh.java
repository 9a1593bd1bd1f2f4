package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.PageBatch;
import java.util.List;

/** A captured logical host: its metadata and its pages (in address order per process). */
public record CapturedLh(LhImage image, List<PageBatch> pages) {
    public CapturedLh {
        pages = List.copyOf(pages);
    }

    /** Bytes of page data carried (zero runs not counted). */
    public long dataBytes() {
        long n = 0;
        for (PageBatch b : pages) {
            n += b.getData().size();
        }
        return n;
    }
}
