package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.ThreadImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-threaded programs checkpointed to files twice mid-run (each time killed and restarted
 * from the files in a fresh LH), compared line for line with an uninterrupted run.
 */
class ThreadedProgramCheckpointTest {
    static final Path THREADS = Path.of("target", "native-test", "threads").toAbsolutePath();

    @TempDir
    Path dir;
    TestLhs lhs;
    MidRunCheckpoints runs;
    List<LhImage> images;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
        runs = new MidRunCheckpoints(lhs, dir);
        images = runs.images;
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            runs.close();
        } finally {
            lhs.close();
        }
    }

    /**
     * Four threads, one in pthread_cond_wait (a futex wait: restarted), one in nanosleep (EINTR,
     * resumed with the time left), one in read(2) on a pipe (restarted, the pipe's bytes carried),
     * one computing; each reports at the end whether its tid, TLS, name, signal mask, robust list,
     * rseq registration, clear-child-tid address and alternate signal stack are what they were.
     */
    @Test
    void fourThreadsBlockedOrBusyContinueAfterTwoRestarts() throws Exception {
        List<String> argv = List.of(THREADS.toString(), "60");
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertTrue(expected.subList(60, 65).stream().allMatch(l -> l.contains("kernel state same")), expected.toString());
        List<String> got = runs.run(argv, 8, 30);
        assertEquals(expected, got);
        for (LhImage image : images) {
            List<ThreadImage> threads = image.getProcesses(0).getThreadsList();
            assertEquals(List.of(2, 3, 4, 5, 6), threads.stream().map(ThreadImage::getTid).toList(), "the threads at their tids");
            assertEquals(List.of("threads", "cond", "sleeper", "reader", "busy"), threads.stream().map(ThreadImage::getComm).toList());
            assertTrue(threads.get(2).hasAltstack(), "the sleeper's alternate signal stack is in the image");
            assertEquals(202, rax(threads.get(1)), "the cond thread re-executes its futex wait");
        }
        // the sleeper is in nanosleep but for a few microseconds per 15 ms nap
        assertTrue(images.stream().anyMatch(i -> i.getProcesses(0).getThreads(2).getSyscallInterrupted()),
                "the sleeper's nanosleep returns EINTR");
    }

    /** python3's ThreadPoolExecutor with 4 worker threads hashing; results printed in order. */
    @Test
    void pythonThreadPoolHashing() throws Exception {
        String script = "import hashlib, concurrent.futures as cf\n"
                + "def work(i):\n"
                + "    h = hashlib.sha256()\n"
                + "    for k in range(15000): h.update(('%d:%d' % (i, k)).encode())\n"
                + "    return i, h.hexdigest()\n"
                + "with cf.ThreadPoolExecutor(4) as ex:\n"
                + "    for i, d in ex.map(work, range(160)): print(i, d[:20], flush=True)\n"
                + "print('done', flush=True)\n";
        List<String> argv = List.of("/usr/bin/python3", "-c", script);
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertEquals("done", expected.get(expected.size() - 1));
        assertEquals(expected, runs.run(argv, 20, 80));
        assertTrue(images.stream().allMatch(i -> i.getProcesses(0).getThreadsCount() == 5),
                "the main thread and four workers each time: " + images.stream().map(i -> i.getProcesses(0).getThreadsCount()).toList());
    }

    private static long rax(ThreadImage t) {
        return java.nio.ByteBuffer.wrap(t.getRegisters().toByteArray()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(10 * 8);
    }

}
