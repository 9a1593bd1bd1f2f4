package dev.ferry.agent.checkpoint;

import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallBatch;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.Syscalls;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.Itimer;
import dev.ferry.proto.v1.SignalAction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel state /proc does not show, read by injected system calls: brk, the
 * clear-child-tid address, the 62 signal dispositions and the interval timers, all in one
 * {@link SyscallBatch} (a scratch mapping that exists only while the calls run).
 */
final class InjectedState {
    private static final int SIGACTION = 32, ITIMER = 32, SIGNALS = 64, TIMERS = 3;

    long brk;
    long clearChildTid;
    final List<SignalAction> actions = new ArrayList<>();
    final List<Itimer> itimers = new ArrayList<>();

    static InjectedState read(Tracee tracee, SyscallInjector inject, RemoteMemory memory) throws TraceException, IOException {
        InjectedState s = new InjectedState();
        int timersAt = 8 + SIGNALS * SIGACTION;
        try (SyscallBatch batch = SyscallBatch.open(tracee, inject, memory, 2 + SIGNALS + TIMERS, timersAt + TIMERS * ITIMER)) {
            int brk = batch.add(Syscalls.BRK, 0);
            int tid = batch.add(Syscalls.PRCTL, Syscalls.PR_GET_TID_ADDRESS, batch.data(0));
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
            ByteBuffer data = le(batch.read(0, timersAt + TIMERS * ITIMER));
            s.clearChildTid = data.getLong(0);
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
        }
        return s;
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
