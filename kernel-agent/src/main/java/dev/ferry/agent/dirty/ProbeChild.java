package dev.ferry.agent.dirty;

import com.sun.jna.LastErrorException;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.RemoteMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway {@code sleep} for the probes, written to from outside with process_vm_writev
 * (the kernel handles that write like the program's own: it faults, sets soft-dirty, clears
 * uffd write-protection), so the probe needs no program of its own.
 */
final class ProbeChild implements AutoCloseable {
    private static final int SIGKILL = 9;

    private final Process shell;
    private final int pid;
    private final long page;

    private ProbeChild(Process shell, int pid, long page) {
        this.shell = shell;
        this.pid = pid;
        this.page = page;
    }

    static ProbeChild start() throws IOException {
        Process shell = new ProcessBuilder("/bin/sh", "-c", "sleep 600 & echo $!; wait").redirectErrorStream(true).start();
        try {
            String line = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            int pid = Integer.parseInt(line == null ? "" : line.strip());
            awaitExec(pid);
            VmArea area = VmArea.parseSmaps(Files.readString(Path.of("/proc", Integer.toString(pid), "maps"))).stream()
                    .filter(MappingDiff::isCandidate).filter(a -> a.path().equals("[stack]")).findFirst()
                    .orElseThrow(() -> new IOException("the probe's sleep has no stack"));
            return new ProbeChild(shell, pid, area.end() - PageRange.PAGE);   // the stack's top page is present
        } catch (IOException | RuntimeException e) {
            shell.destroyForcibly();
            throw e instanceof IOException io ? io : new IOException("cannot start the probe child: " + e, e);
        }
    }

    /**
     * Until the child has exec'd sleep and sleeps in nanosleep: before that the dynamic loader
     * and libc's start-up still write pages of their own, which a probe would take for pages
     * reported without a write.
     */
    private static void awaitExec(int pid) throws IOException {
        Path comm = Path.of("/proc", Integer.toString(pid), "comm");
        Path syscall = Path.of("/proc", Integer.toString(pid), "syscall");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!Files.readString(comm).strip().equals("sleep") || !sleeping(Files.readString(syscall))) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the probe child " + pid + " did not exec sleep");
            }
            Thread.onSpinWait();
        }
    }

    /** /proc/PID/syscall names clock_nanosleep (230) or nanosleep (35) as the call it is blocked in. */
    static boolean sleeping(String syscall) {
        return syscall.startsWith("230 ") || syscall.startsWith("35 ");
    }

    int pid() {
        return pid;
    }

    /** Rewrites the first bytes of the probe page with what is there: a write, no change of content. */
    void touch() throws IOException {
        try (RemoteMemory memory = new RemoteMemory(pid)) {
            memory.readIntoBuffer(page, 8, true);
            memory.writeFromBuffer(page, 8);
        }
    }

    /** Null if clear_refs + a write set the page's soft-dirty bit (and a second clear resets it). */
    String softDirtyProblem() throws IOException {
        Path clearRefs = Path.of("/proc", Integer.toString(pid), "clear_refs");
        SoftDirtyTracker.clearSoftDirty(clearRefs);
        touch();
        if (!softDirty()) {
            return "pagemap bit 55 stays clear after a write (kernel without CONFIG_MEM_SOFT_DIRTY)";
        }
        SoftDirtyTracker.clearSoftDirty(clearRefs);
        return softDirty() ? "clear_refs 4 does not clear the soft-dirty bit" : null;
    }

    private boolean softDirty() throws IOException {
        boolean[] dirty = new boolean[1];
        try (Pagemap pagemap = new Pagemap(pid)) {
            pagemap.read(new PageRange(page, PageRange.PAGE), (first, entries) -> dirty[0] = Pagemap.softDirty(entries.get(0)));
        }
        return dirty[0];
    }

    /** Null if {@code tracker} reports exactly the probe page after one write, and nothing after none. */
    String trackerProblem(DirtyTracker tracker) throws IOException {
        try (tracker) {
            tracker.start();
            touch();
            if (tracker.name().equals(DirtyTrackers.HASH)) {
                // the hash tracker sees contents: make a real change, then put the bytes back next round
                return hashProblem(tracker);
            }
            DirtyPages first = tracker.collect();
            if (first.ranges().stream().noneMatch(r -> r.contains(page))) {
                return "a write was not reported (" + first + ")";
            }
            DirtyPages second = tracker.collect();
            if (second.ranges().stream().anyMatch(r -> r.contains(page))) {
                return "a page was reported again without a write (" + second + ")";
            }
            return null;
        }
    }

    private String hashProblem(DirtyTracker tracker) throws IOException {
        long offset = PageRange.PAGE - 8;   // the far end of the top stack page: the argument strings, never read back
        try (RemoteMemory memory = new RemoteMemory(pid)) {
            byte[] before = memory.read(page + offset, 8);
            byte[] changed = before.clone();
            changed[0] ^= 1;
            memory.write(page + offset, changed);
            boolean seen = tracker.collect().ranges().stream().anyMatch(r -> r.contains(page));
            memory.write(page + offset, before);
            return seen ? null : "a changed page was not reported";
        }
    }

    @Override
    public void close() {
        try {
            if (Files.exists(Path.of("/proc", Integer.toString(pid)))) {
                KernelCalls.INSTANCE.kill(pid, SIGKILL);   // still ours: the shell has not reaped it
            }
        } catch (LastErrorException e) {
            // gone already
        }
        try {
            if (!shell.waitFor(5, TimeUnit.SECONDS)) {
                shell.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shell.destroyForcibly();
        }
    }
}
