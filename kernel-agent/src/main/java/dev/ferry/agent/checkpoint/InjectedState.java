package dev.ferry.agent.checkpoint;

import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallBatch;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.Syscalls;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.Itimer;
import dev.ferry.proto.v1.SignalAction;
import dev.ferry.proto.v1.SignalStack;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel state /proc does not show, read by injected system calls: brk, the 62 signal
 * dispositions and the interval timers of the process, and each thread's clear-child-tid
 * address and alternate signal stack. The leader's calls run in one {@link SyscallBatch} (a
 * scratch mapping that exists only while the calls run); the two per-thread calls of every
 * other thread are injected in that thread (they are its own state) and write into the batch's
 * data area while it still exists.
 */
final class InjectedState {
    private static final int SIGACTION = 32, ITIMER = 32, SIGNALS = 64, TIMERS = 3, STACK_T = 24;
    private static final int SS_ONSTACK = 1, SS_DISABLE = 2;

    /** What one thread holds: its clear-child-tid address, and its sigaltstack (null: none). */
    record PerThread(long clearChildTid, SignalStack altstack) {}

    long brk;
    final List<SignalAction> actions = new ArrayList<>();
    final List<Itimer> itimers = new ArrayList<>();
    /** The leader's first, then {@code others}' in their order. */
    final List<PerThread> threads = new ArrayList<>();

    /** {@code inject} runs in the leader; {@code others} are the process' other threads, stopped. */
    static InjectedState read(Tracee tracee, SyscallInjector inject, RemoteMemory memory, List<Tracee> others)
            throws TraceException, IOException {
        InjectedState s = new InjectedState();
        int timersAt = 8 + SIGNALS * SIGACTION;
        int stackAt = timersAt + TIMERS * ITIMER;
        try (SyscallBatch batch = SyscallBatch.open(tracee, inject, memory, 3 + SIGNALS + TIMERS, stackAt + STACK_T)) {
            int brk = batch.add(Syscalls.BRK, 0);
            int tid = batch.add(Syscalls.PRCTL, Syscalls.PR_GET_TID_ADDRESS, batch.data(0));
            int stack = batch.add(Syscalls.SIGALTSTACK, 0, batch.data(stackAt));
            int[] sig = new int[SIGNALS + 1];
            for (int n = 1; n <= SIGNALS; n++) {
                sig[n] = n == 9 || n == 19 ? -1   // SIGKILL and SIGSTOP cannot be caught
                        : batch.add(Syscalls.RT_SIGACTION, n, 0, batch.data(8 + (n - 1) * SIGACTION), 8);
            }
            int[] timer = new int[TIMERS];
            for (int which = 0; which < TIMERS; which++) {
                timer[which] = batch.add(Syscalls.GETITIMER, which, batch.data(timersAt + which * ITIMER));
            }
            long[] r = batch.run();
            s.brk = check(r[brk], "brk(0)");
            check(r[tid], "prctl(PR_GET_TID_ADDRESS)");
            check(r[stack], "sigaltstack");
            ByteBuffer data = le(batch.read(0, stackAt + STACK_T));
            s.threads.add(new PerThread(data.getLong(0), stack(data, stackAt)));
            for (int n = 1; n <= SIGNALS; n++) {
                if (sig[n] < 0) {
                    continue;
                }
                check(r[sig[n]], "rt_sigaction(" + n + ")");
                int at = 8 + (n - 1) * SIGACTION;
                s.actions.add(SignalAction.newBuilder().setSignal(n).setHandler(data.getLong(at)).setFlags(data.getLong(at + 8))
                        .setRestorer(data.getLong(at + 16)).setMask(data.getLong(at + 24)).build());
            }
            for (int which = 0; which < TIMERS; which++) {
                check(r[timer[which]], "getitimer(" + which + ")");
                int at = timersAt + which * ITIMER;
                long interval = data.getLong(at) * 1_000_000 + data.getLong(at + 8);
                long value = data.getLong(at + 16) * 1_000_000 + data.getLong(at + 24);
                if (interval != 0 || value != 0) {
                    s.itimers.add(Itimer.newBuilder().setWhich(which).setIntervalUsec(interval).setValueUsec(value).build());
                }
            }
            for (Tracee other : others) {
                SyscallInjector in = inject.forThread(other);
                in.check("prctl(PR_GET_TID_ADDRESS)", Syscalls.PRCTL, Syscalls.PR_GET_TID_ADDRESS, batch.data(0));
                in.check("sigaltstack", Syscalls.SIGALTSTACK, 0, batch.data(stackAt));
                ByteBuffer own = le(batch.read(0, stackAt + STACK_T));
                s.threads.add(new PerThread(own.getLong(0), stack(own, stackAt)));
            }
        }
        return s;
    }

    /** A stack_t {ss_sp, ss_flags, ss_size}; null when disabled. */
    private static SignalStack stack(ByteBuffer data, int at) {
        int flags = data.getInt(at + 8);
        if ((flags & SS_DISABLE) != 0) {
            return null;
        }
        return SignalStack.newBuilder().setPointer(data.getLong(at)).setSize(data.getLong(at + 16))
                .setFlags(flags & ~SS_ONSTACK).build();
    }

    private static long check(long result, String what) throws TraceException {
        if (result < 0 && result >= -4095) {
            throw new TraceException("injected " + what + " failed", (int) -result);
        }
        return result;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
