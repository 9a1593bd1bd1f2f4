package dev.ferry.agent.ptrace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Creates threads at chosen tids inside a stopped tracee, to rebuild a multi-threaded process.
 *
 * <p>clone3 with CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM and {@code set_tid = {tid}} is
 * injected into the tracee (a thread of the process being rebuilt, still root: set_tid needs
 * CAP_CHECKPOINT_RESTORE over the LH's pid namespace, and the tid is that namespace's because
 * the stub lives in it). With PTRACE_O_TRACECLONE the kernel attaches the new thread to this
 * tracer and holds it in a PTRACE_EVENT_STOP before it executes one instruction: it never runs
 * the code that follows the syscall instruction (in the vdso, on the parent's stack), and the
 * caller gives it its own registers and state. CLONE_CHILD_CLEARTID sets its clear-child-tid
 * address in the same call.
 *
 * <p>The injected single step stops twice when the clone succeeds: at the parent's
 * PTRACE_EVENT_CLONE inside the call (the event message is the new thread's host tid), and,
 * stepped again, at the trap after the syscall instruction, where rax holds the new tid as the
 * LH sees it. A failed clone3 makes no event, only the trap, with -errno in rax.
 */
public final class ThreadCloner {
    private static final long CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
            CLONE_THREAD = 0x10000, CLONE_SYSVSEM = 0x40000, CLONE_CHILD_CLEARTID = 0x200000;
    private static final long THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    private static final int ARGS_SIZE = 88;   // struct clone_args up to .cgroup (CLONE_ARGS_SIZE_VER2)
    /** Bytes of tracee memory {@link #cloneAt} writes its arguments to. */
    public static final int SCRATCH_BYTES = ARGS_SIZE + 8;

    private final SyscallInjector inject;
    private final RemoteMemory memory;
    private final long scratch;

    /**
     * {@code inject}: the parent thread's injector (its tracee must be seized with
     * PTRACE_O_EXITKILL, which is kept); {@code scratch}: {@link #SCRATCH_BYTES} of writable
     * tracee memory.
     */
    public ThreadCloner(SyscallInjector inject, RemoteMemory memory, long scratch) throws TraceException {
        this.inject = inject;
        this.memory = memory;
        this.scratch = scratch;
        inject.tracee().setOptions(Ptrace.O_EXITKILL | Ptrace.O_TRACECLONE);
    }

    /**
     * A new thread of the tracee's process at {@code tid} (in the LH's pid namespace), stopped
     * and traced by this tracer thread with PTRACE_O_EXITKILL. {@code clearChildTid}: its
     * clear-child-tid address, 0 for none.
     */
    public Tracee cloneAt(int tid, long clearChildTid) throws TraceException, IOException {
        ByteBuffer args = ByteBuffer.allocate(SCRATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        args.putLong(THREAD_FLAGS | (clearChildTid != 0 ? CLONE_CHILD_CLEARTID : 0))
                .putLong(0).putLong(clearChildTid).putLong(0)   // pidfd, child_tid, parent_tid
                .putLong(0)                                     // exit_signal: none for a thread
                .putLong(0).putLong(0).putLong(0)               // stack, stack_size (the thread gets its registers later), tls
                .putLong(scratch + ARGS_SIZE).putLong(1)        // set_tid, set_tid_size
                .putLong(0)                                     // cgroup
                .putInt(tid);
        memory.write(scratch, args.array());

        Tracee parent = inject.tracee();
        Registers saved = parent.registers();
        Registers regs = new Registers(saved.toBytes());
        regs.set(Registers.RAX, Syscalls.CLONE3);
        regs.set(Registers.ORIG_RAX, -1);
        regs.set(Registers.RIP, inject.address());
        regs.set(Registers.RDI, scratch);
        regs.set(Registers.RSI, ARGS_SIZE);
        parent.setRegisters(regs);
        Tracee child = null;
        long result;
        try {
            int status = parent.step();
            if (Tracee.event(status) == Ptrace.EVENT_CLONE) {
                child = Tracee.adopt((int) parent.eventMessage());
                status = parent.step();
            }
            if (Tracee.stopSignal(status) != Ptrace.SIGTRAP || Tracee.event(status) != 0) {
                throw new TraceException("injected clone3 in " + parent.pid() + " stopped with status 0x" + Integer.toHexString(status));
            }
            result = parent.registers().rax();
        } finally {
            parent.setRegisters(saved);
        }
        if (result < 0 && result >= -4095) {
            throw new TraceException("injected clone3 of thread " + tid + " in process " + parent.pid() + " failed", (int) -result);
        }
        if (child == null || result != tid) {
            throw new TraceException("injected clone3 of thread " + tid + " in process " + parent.pid() + " made thread " + result);
        }
        int first = child.awaitStop();
        if (Tracee.event(first) != Ptrace.EVENT_STOP) {
            throw new TraceException("new thread " + child.pid() + " first stopped with status 0x" + Integer.toHexString(first));
        }
        return child;
    }
}
