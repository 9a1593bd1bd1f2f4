package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.ProcessImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logical hosts of several processes checkpointed to files twice mid-run (each time killed and
 * restarted from the files in a fresh LH), compared line for line with an uninterrupted run:
 * every process comes back at its pid under its parent, zombies still waited for stay
 * zombies, pipes between the processes keep their bytes.
 */
class ProcessTreeCheckpointTest {
    static final Path FAMILY = Path.of("target", "native-test", "family").toAbsolutePath();
    static final Path SHAREDMEM = Path.of("target", "native-test", "sharedmem").toAbsolutePath();

    @TempDir
    Path dir;
    TestLhs lhs;
    MidRunCheckpoints runs;

    @BeforeEach
    void setUp() throws Exception {
        lhs = new TestLhs(dir.resolve("state"), true);
        runs = new MidRunCheckpoints(lhs, dir);
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
     * A parent waiting by pid for three children: one already a zombie whose pipe holds bytes no
     * writer will add to, one sleeping, one computing (and later killed by a signal).
     */
    @Test
    void aParentWaitsForItsThreeChildrenByPid() throws Exception {
        List<String> argv = List.of(FAMILY.toString(), "60");
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertEquals("parent: ids same", expected.get(expected.size() - 1));
        assertEquals(expected, runs.run(argv, 6, 30));
        for (LhImage image : runs.images) {
            List<ProcessImage> p = image.getProcessesList();
            assertEquals(List.of(2, 3, 4, 5), p.stream().map(ProcessImage::getPid).toList());
            assertEquals(List.of(1, 2, 2, 2), p.stream().map(ProcessImage::getPpid).toList());
            assertEquals(List.of(2, 2, 2, 2), p.stream().map(ProcessImage::getPgid).toList());
            assertTrue(p.get(1).getZombie() && p.get(1).getExitStatus() == 11 << 8, "child 1 is a zombie that exited 11: " + p.get(1));
            List<Integer> fromChildren = p.get(0).getFdsList().stream().filter(f -> f.getKind() == FileDescriptor.Kind.PIPE
                    && f.getFd() >= 3).map(FileDescriptor::getPipeId).distinct().toList();
            assertEquals(3, fromChildren.size(), "one pipe per child: " + p.get(0).getFdsList());
            assertTrue(image.getPipesList().stream().anyMatch(x -> fromChildren.contains(x.getId())
                    && x.getBuffered().toStringUtf8().equals("early")), "the zombie's pipe keeps its bytes: " + image.getPipesList());
            for (int child : List.of(2, 3)) {   // the live children hold the write ends of the parent's pipes
                assertTrue(p.get(child).getZombie() || p.get(child).getFdsList().stream().anyMatch(f -> f.getKind() == FileDescriptor.Kind.PIPE && f.getWriteEnd()
                        && fromChildren.contains(f.getPipeId())), p.get(child).getFdsList().toString());
            }
        }
    }

    /**
     * A parent and its child sharing MAP_SHARED anonymous memory and a memfd (mapped, and held
     * open): each object is carried once, and after each restart what one process writes the
     * other still sees.
     */
    @Test
    void sharedMemoryBetweenParentAndChildStaysShared() throws Exception {
        List<String> argv = List.of(SHAREDMEM.toString(), "50");
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertEquals("child exited 0", expected.get(expected.size() - 1));
        assertEquals(expected, runs.runWithProcesses(argv, 2, 5, 25));
        for (LhImage image : runs.images) {
            assertEquals(2, image.getSharedMemoryCount(), "the anonymous area and the memfd, once each: " + image.getSharedMemoryList());
            for (ProcessImage p : image.getProcessesList()) {
                assertEquals(2, p.getMappingsList().stream().filter(m -> m.getShmId() != 0).count(), "both mapped in " + p.getPid());
            }
        }
    }

    /** sh -c 'sort | uniq -c': a shell waiting for two children joined by a pipe. */
    @Test
    void aShellPipelineSortUniq() throws Exception {
        Path big = dir.resolve("big.txt");
        writeWords(big, 1_500_000);
        List<String> argv = List.of("/bin/sh", "-c", "sort " + big + " | uniq -c; echo done");
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertEquals("done", expected.get(expected.size() - 1));
        // checkpointed twice while sort reads and sorts (no output yet), then once while uniq writes
        assertEquals(expected, runs.runWithProcesses(argv, 3, 0, 0, 200));
        LhImage first = runs.images.get(0);
        assertEquals(List.of("sh", "sort", "uniq"), first.getProcessesList().stream().map(ProcessImage::getComm).toList());
        List<FileDescriptor> sortFds = first.getProcesses(1).getFdsList();
        List<FileDescriptor> uniqFds = first.getProcesses(2).getFdsList();
        FileDescriptor sortOut = sortFds.stream().filter(f -> f.getFd() == 1).findFirst().orElseThrow();
        FileDescriptor uniqIn = uniqFds.stream().filter(f -> f.getFd() == 0).findFirst().orElseThrow();
        assertEquals(FileDescriptor.Kind.PIPE, sortOut.getKind());
        assertEquals(sortOut.getPipeId(), uniqIn.getPipeId(), "sort and uniq share one pipe");
    }

    /**
     * make -j2 building a small C project (six slow-to-compile files and a main), checkpointed
     * twice while it compiles: make, its recipe shells, gcc and its passes (cc1, as) come back,
     * and the program built prints what one built without interruption prints.
     */
    @Test
    void makeMinusJ2BuildsASmallCProject() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        StringBuilder main = new StringBuilder("#include <stdio.h>\n");
        StringBuilder calls = new StringBuilder();
        StringBuilder objects = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            StringBuilder f = new StringBuilder("unsigned long f" + i + "(unsigned long x) {\n");
            for (int k = 0; k < 450; k++) {
                f.append("  x = x * ").append(31 + k % 7).append(" + ").append(k * i + 1).append("; if (x % ").append(k + 3)
                        .append(" == 1) x ^= ").append(k).append(";\n");
            }
            Files.writeString(project.resolve("f" + i + ".c"), f.append("  return x;\n}\n"));
            main.append("unsigned long f").append(i).append("(unsigned long);\n");
            calls.append("  x = f").append(i).append("(x); printf(\"f").append(i).append(" %lu\\n\", x);\n");
            objects.append(" f").append(i).append(".o");
        }
        Files.writeString(project.resolve("main.c"), main + "int main(void) {\n  unsigned long x = 1;\n" + calls + "  return 0;\n}\n");
        Files.writeString(project.resolve("Makefile"), "prog: main.o" + objects + "\n\tcc -o $@ $^\n%.o: %.c\n\tcc -O2 -c $< -o $@\n");
        List<String> argv = List.of("/bin/sh", "-c", "cd " + project + " && make -s -j2 && ./prog && rm -f *.o prog");
        List<String> expected = MidRunCheckpoints.uninterrupted(argv);
        assertEquals(6, expected.size(), expected.toString());
        List<String> got = runs.runWithProcesses(argv, 4, 0, 0);   // sh, make and at least a recipe shell and a cc
        assertEquals(expected, got);
    }

    /** Lines of one of a few thousand words, so that uniq -c has something to count. */
    private static void writeWords(Path file, int lines) throws IOException {
        Random random = new Random(7);
        List<String> words = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            words.add(Long.toString(random.nextLong() & 0xffffffffL, 36));
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            b.append(words.get(random.nextInt(words.size()))).append('\n');
        }
        Files.writeString(file, b);
    }
}
