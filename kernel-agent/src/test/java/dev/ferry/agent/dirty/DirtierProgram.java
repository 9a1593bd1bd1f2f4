package dev.ferry.agent.dirty;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.linux.jna.KernelCalls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/** The dirtier test program (src/test/c/dirtier.c): writes the pages it is told to, one command a line. */
public final class DirtierProgram implements AutoCloseable {
    public static final Path BINARY = Path.of("target", "native-test", "dirtier").toAbsolutePath();

    private final Process forker;
    private final BufferedReader out;
    private final Writer in;
    public final int pid;
    private long arena;
    final int pages;

    private DirtierProgram(Process forker, int pages) throws IOException {
        this.forker = forker;
        this.pages = pages;
        this.out = new BufferedReader(new InputStreamReader(forker.getInputStream(), StandardCharsets.US_ASCII));
        this.in = new OutputStreamWriter(forker.getOutputStream(), StandardCharsets.US_ASCII);
        String[] ready = line().split(" ");
        if (!ready[0].equals("ready")) {
            throw new IOException("dirtier said " + String.join(" ", ready));
        }
        this.pid = Integer.parseInt(ready[1]);
        this.arena = Long.parseLong(ready[2], 16);
    }

    public static DirtierProgram start(int pages, String... extra) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(BINARY.toString(), Integer.toString(pages)));
        command.addAll(Arrays.asList(extra));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            return new DirtierProgram(p, pages);
        } catch (IOException | RuntimeException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    private String line() throws IOException {
        String l = out.readLine();
        if (l == null) {
            throw new IOException("dirtier ended");
        }
        return l;
    }

    /** Sends one command and returns the answer's argument ("" for a plain "ok"). */
    public String command(String command) throws IOException {
        in.write(command + "\n");
        in.flush();
        String answer = line();
        if (!answer.startsWith("ok")) {
            throw new IOException("dirtier answered " + answer + " to " + command);
        }
        return answer.substring(2).strip();
    }

    void write(int... pageIndexes) throws IOException {
        command("w " + Arrays.stream(pageIndexes).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
    }

    /**
     * Waits until the program is blocked reading its next command. It answers before it goes
     * back to reading, and getting there updates stdio's bookkeeping in its memory; after this it
     * writes nothing until the next command.
     */
    public void awaitIdle() {
        Path syscall = Path.of("/proc", Integer.toString(pid), "syscall");
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1))
                .until(() -> Files.readString(syscall).startsWith("0 "));   // read(2), number 0 on x86_64
    }

    public long arena() {
        return arena;
    }

    /** After "M": the arena moved. */
    long moveArena() throws IOException {
        arena = Long.parseLong(command("M"), 16);
        return arena;
    }

    /** The arena page indexes among {@code dirty}'s ranges. */
    TreeSet<Integer> arenaPages(DirtyPages dirty) {
        TreeSet<Integer> out = new TreeSet<>();
        long end = arena + pages * PageRange.PAGE;
        for (PageRange r : dirty.ranges()) {
            for (long a = Math.max(r.start(), arena); a < Math.min(r.end(), end); a += PageRange.PAGE) {
                out.add((int) ((a - arena) / PageRange.PAGE));
            }
        }
        return out;
    }

    /** "q": the program checks its arena and exits; returns its last line and exit status. */
    public String quit() throws Exception {
        in.write("q\n");
        in.flush();
        String bye = line();
        if (!forker.waitFor(10, TimeUnit.SECONDS)) {
            throw new IOException("dirtier did not exit");
        }
        return bye + " exit " + forker.exitValue();
    }

    String status(String field) throws IOException {
        return Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status")).stream()
                .filter(l -> l.startsWith(field + ":")).findFirst().orElse("");
    }

    @Override
    public void close() throws Exception {
        if (forker.isAlive()) {
            try {
                // the worker is still the forker's child (unreaped), so its pid is still ours
                KernelCalls.INSTANCE.kill(pid, 9);
            } catch (LastErrorException e) {
                // gone
            }
            forker.destroyForcibly();
            forker.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
