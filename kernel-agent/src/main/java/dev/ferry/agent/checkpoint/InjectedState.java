package dev.ferry.agent.checkpoint;

import dev.ferry.agent.ptrace.RemoteMemory;
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
 * clear-child-tid address, the 62 signal dispositions and the interval timers. Results land in
 * a scratch area well below the stack pointer (past the red zone), whose old bytes are put back.
 */
final class InjectedState {
    private static final int SCRATCH = 64;

    long brk;
    long clearChildTid;
    final List<SignalAction> actions = new ArrayList<>();
    final List<Itimer> itimers = new ArrayList<>();

    static InjectedState read(SyscallInjector inject, RemoteMemory memory, long rsp) throws TraceException, IOException {
        long scratch = (rsp - 1024) & ~63L;
        byte[] saved = memory.read(scratch, SCRATCH);
        InjectedState s = new InjectedState();
        try {
            s.brk = inject.check("brk(0)", Syscalls.BRK, 0);
            inject.check("prctl(PR_GET_TID_ADDRESS)", Syscalls.PRCTL, Syscalls.PR_GET_TID_ADDRESS, scratch);
            s.clearChildTid = le(memory.read(scratch, 8)).getLong(0);
            for (int sig = 1; sig <= 64; sig++) {
                if (sig == 9 || sig == 19) {
                    continue;   // SIGKILL and SIGSTOP cannot be caught
                }
                inject.check("rt_sigaction(" + sig + ")", Syscalls.RT_SIGACTION, sig, 0, scratch, 8);
                ByteBuffer a = le(memory.read(scratch, 32));
                s.actions.add(SignalAction.newBuilder().setSignal(sig).setHandler(a.getLong(0)).setFlags(a.getLong(8))
                        .setRestorer(a.getLong(16)).setMask(a.getLong(24)).build());
            }
            for (int which = 0; which < 3; which++) {
                inject.check("getitimer(" + which + ")", Syscalls.GETITIMER, which, scratch);
                ByteBuffer t = le(memory.read(scratch, 32));
                long interval = t.getLong(0) * 1_000_000 + t.getLong(8);
                long value = t.getLong(16) * 1_000_000 + t.getLong(24);
                if (interval != 0 || value != 0) {
                    s.itimers.add(Itimer.newBuilder().setWhich(which).setIntervalUsec(interval).setValueUsec(value).build());
                }
            }
        } finally {
            memory.write(scratch, saved);
        }
        return s;
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
