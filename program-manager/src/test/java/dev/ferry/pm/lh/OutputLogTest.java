package dev.ferry.pm.lh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OutputLogTest {
    /**
     * An attach session holds the shared signal while it asks both logs for their ends; a
     * writer must not hold its log while it waits for that signal (that deadlocked for good).
     */
    @Test
    void aWriterWaitingForTheSignalDoesNotHoldItsLog() throws Exception {
        Object signal = new Object();
        OutputLog log = new OutputLog(1024, 0, signal);
        Thread writer = new Thread(() -> {
            try {
                log.append(new byte[] {1, 2, 3}, 0, 3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "writer");
        writer.setDaemon(true);   // with the old bug it would never end
        synchronized (signal) {
            writer.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (writer.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(Thread.State.BLOCKED, writer.getState(), "the writer waits for the signal");
            long end = CompletableFuture.supplyAsync(log::end).get(2, TimeUnit.SECONDS);
            assertEquals(3, end);
        }
        writer.join(2000);
        assertFalse(writer.isAlive());
    }

    @Test
    void readsByOffsetAndKeepsBytesUntilAcked() throws Exception {
        OutputLog log = new OutputLog(1024);
        byte[] hello = "hello world".getBytes(StandardCharsets.US_ASCII);
        log.append(hello, 0, hello.length);
        assertArrayEquals("world".getBytes(StandardCharsets.US_ASCII), log.read(6, 100, 0));
        assertArrayEquals("hel".getBytes(StandardCharsets.US_ASCII), log.read(0, 3, 0));
        log.ack(6);
        assertThrows(IllegalArgumentException.class, () -> log.read(5, 10, 0));
        assertArrayEquals("world".getBytes(StandardCharsets.US_ASCII), log.read(6, 100, 0));
        assertEquals(11, log.end());
    }

    @Test
    void appendBlocksWhenFullUntilAcked() throws Exception {
        OutputLog log = new OutputLog(8);
        log.append(new byte[8], 0, 8);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                log.append(new byte[] {1, 2, 3}, 0, 3);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(writer.isDone(), "append must wait while the log is full");
        log.ack(4);
        writer.get(5, TimeUnit.SECONDS);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 2, 3}, log.read(4, 100, 0));
    }

    @Test
    void finishedOnlyAfterCloseAndEverythingRead() throws Exception {
        OutputLog log = new OutputLog(16);
        log.append(new byte[] {9}, 0, 1);
        log.close();
        assertFalse(log.finishedAt(0));
        assertTrue(log.finishedAt(1));
        assertEquals(0, log.read(1, 10, 1000).length, "end of stream returns at once");
    }

    @Test
    void streamsManyMegabytesThroughASmallWindowIntact() throws Exception {
        OutputLog log = new OutputLog(64 * 1024);
        byte[] data = new byte[5 << 20];
        new Random(7).nextBytes(data);
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            try {
                for (int off = 0; off < data.length; off += 10_000) {
                    log.append(data, off, Math.min(10_000, data.length - off));
                }
                log.close();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long pos = 0;
        while (!log.finishedAt(pos)) {
            byte[] b = log.read(pos, 7_000, 100);
            got.write(b);
            pos += b.length;
            log.ack(pos);
        }
        producer.get(10, TimeUnit.SECONDS);
        assertArrayEquals(data, got.toByteArray());
    }
}
