package dev.ferry.agent.ptrace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every thread of one process, each a {@link Tracee} of the same tracer thread, the thread
 * group leader first. ptrace works per thread: each must be seized, stopped, detached or
 * reaped on its own. All methods run on the tracer thread.
 */
public final class TracedThreads {
    private final List<Tracee> threads = new ArrayList<>();

    /** Starts with {@code leader}; threads created later are {@link #add}ed. */
    public TracedThreads(Tracee leader) {
        threads.add(leader);
    }

    /**
     * PTRACE_SEIZE + PTRACE_INTERRUPT of every thread of {@code pid}, without awaiting the
     * stops (see {@link Tracee#seize}). Meant for a frozen process, whose task list cannot
     * change; a thread that ended meanwhile is skipped. On failure every seized thread is let go.
     */
    public static TracedThreads seizeAll(int pid) throws TraceException, IOException {
        TracedThreads all = new TracedThreads(Tracee.seize(pid, false));
        try {
            for (int tid : tids(pid)) {
                if (tid == pid) {
                    continue;
                }
                try {
                    all.add(Tracee.seize(tid, false));
                } catch (TraceException e) {
                    if (Files.exists(task(pid, tid))) {
                        throw e;
                    }
                }
            }
        } catch (TraceException | IOException | RuntimeException e) {
            all.detach();
            throw e;
        }
        return all;
    }

    /** The tids (host pid namespace) listed in /proc/PID/task, ascending. */
    public static List<Integer> tids(int pid) throws IOException {
        List<Integer> tids = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            s.forEach(p -> tids.add(Integer.parseInt(p.getFileName().toString())));
        } catch (NoSuchFileException e) {
            return tids;
        }
        tids.sort(null);
        return tids;
    }

    private static Path task(int pid, int tid) {
        return Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid));
    }

    public void add(Tracee thread) {
        threads.add(thread);
    }

    public Tracee leader() {
        return threads.get(0);
    }

    /** Leader first. */
    public List<Tracee> all() {
        return List.copyOf(threads);
    }

    /** Waits for every thread's stop (a seized thread that ended meanwhile throws). */
    public void awaitStops() throws TraceException {
        for (Tracee t : threads) {
            t.awaitStop();
        }
    }

    /** Lets every thread run on with the registers it has now. */
    public void detach() {
        for (Tracee t : threads) {
            t.detach();
        }
    }

    /** SIGKILL while stopped (one kill ends the whole thread group); see {@link Tracee#kill}. */
    public void kill() {
        leader().kill();
        threads.forEach(Tracee::kill);
    }

    /**
     * SIGKILL, then reaps every thread's trace: the other threads first, because a traced
     * leader's exit is reported only once every other thread of its group is gone.
     */
    public void killAndReap() {
        for (int i = threads.size() - 1; i >= 0; i--) {
            threads.get(i).killAndReap();
        }
    }
}
