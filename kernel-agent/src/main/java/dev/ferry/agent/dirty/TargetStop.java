package dev.ferry.agent.dirty;

import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.TracerThread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * How a tracker gets the target to hold still: the uffd-wp tracker injects two system calls
 * into it once, the soft-dirty tracker needs every thread stopped while it reads and clears
 * the soft-dirty bits (there is no atomic read-and-clear).
 */
public interface TargetStop {
    /** Work done while the target is stopped, on the thread that traces it. */
    interface StoppedWork<T> {
        T run(SyscallInjector inject) throws Exception;
    }

    <T> T whileStopped(StoppedWork<T> work) throws IOException;

    /**
     * Seizes every thread of {@code pid} on {@code tracer} for the duration of the work, then
     * detaches: for a process nobody traces. Threads created meanwhile are seized too (the task
     * list is read until it stops growing).
     */
    static TargetStop seizeAllThreads(TracerThread tracer, int pid) {
        return new TargetStop() {
            @Override
            public <T> T whileStopped(StoppedWork<T> work) throws IOException {
                return onTracer(tracer, () -> {
                    Map<Integer, Tracee> seized = new LinkedHashMap<>();
                    try {
                        seizeAll(pid, seized);
                        return work.run(injectorFor(seized.get(pid), pid));
                    } finally {
                        seized.values().forEach(Tracee::detach);
                    }
                });
            }
        };
    }

    /**
     * For a target the caller already holds seized and stopped on {@code tracer} (its other
     * threads, if any, are the caller's business).
     */
    static TargetStop alreadySeized(TracerThread tracer, Tracee tracee) {
        return new TargetStop() {
            @Override
            public <T> T whileStopped(StoppedWork<T> work) throws IOException {
                return onTracer(tracer, () -> work.run(injectorFor(tracee, tracee.pid())));
            }
        };
    }

    private static <T> T onTracer(TracerThread tracer, java.util.concurrent.Callable<T> task) throws IOException {
        try {
            return tracer.call(task);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void seizeAll(int pid, Map<Integer, Tracee> seized) throws IOException, TraceException {
        Path tasks = Path.of("/proc", Integer.toString(pid), "task");
        for (boolean grew = true; grew; ) {
            grew = false;
            List<Integer> tids = new ArrayList<>();
            try (Stream<Path> s = Files.list(tasks)) {
                s.forEach(p -> tids.add(Integer.parseInt(p.getFileName().toString())));
            }
            tids.sort((a, b) -> a == pid ? -1 : b == pid ? 1 : Integer.compare(a, b));   // the leader first
            for (int tid : tids) {
                if (seized.containsKey(tid)) {
                    continue;
                }
                try {
                    Tracee t = Tracee.seize(tid, false);
                    seized.put(tid, t);
                    t.awaitStop();
                } catch (TraceException e) {
                    if (tid == pid || Files.exists(tasks.resolve(Integer.toString(tid)))) {
                        throw e;
                    }
                    seized.remove(tid);   // a thread that ended meanwhile
                }
                grew = true;
            }
        }
    }

    /** An injector using a {@code syscall} instruction of the target's vdso. */
    private static SyscallInjector injectorFor(Tracee tracee, int pid) throws IOException {
        String maps = Files.readString(Path.of("/proc", Integer.toString(pid), "maps"));
        VmArea vdso = VmArea.parseSmaps(maps).stream().filter(a -> a.path().equals("[vdso]")).findFirst()
                .orElseThrow(() -> new IOException("process " + pid + " has no [vdso] to inject system calls from"));
        try (RemoteMemory memory = new RemoteMemory(pid)) {
            int at = SyscallInjector.findSyscallInstruction(memory.read(vdso.start(), (int) vdso.length()));
            if (at < 0) {
                throw new IOException("no syscall instruction in the vdso of " + pid);
            }
            return new SyscallInjector(tracee, vdso.start() + at);
        }
    }
}
