package dev.ferry.pm.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StdinBufferTest {
    private final List<String> sent = new ArrayList<>();
    private final StdinBuffer.Sender record = (off, data, eof) -> sent.add(off + ":" + data.length + (eof ? ":eof" : ""));

    @Test
    void replaysOnlyWhatWasNotAcknowledgedAndAlwaysTheEof() throws Exception {
        StdinBuffer b = new StdinBuffer(1 << 20);
        b.add(new byte[10], false, record);
        b.add(new byte[5], false, record);
        b.add(new byte[0], true, record);
        b.acked(10);
        sent.clear();
        b.replay(record);
        assertEquals(List.of("10:5", "15:0:eof"), sent);
        b.acked(15);
        sent.clear();
        b.replay(record);
        assertEquals(List.of("15:0:eof"), sent);
    }

    @Test
    void addWaitsWhileTooMuchIsOutstanding() throws Exception {
        StdinBuffer b = new StdinBuffer(100);
        b.add(new byte[100], false, record);
        CompletableFuture<Void> more = CompletableFuture.runAsync(() -> {
            try {
                b.add(new byte[1], false, record);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(more.isDone());
        b.acked(100);
        more.get(5, TimeUnit.SECONDS);
        assertTrue(sent.contains("100:1"));
    }
}
