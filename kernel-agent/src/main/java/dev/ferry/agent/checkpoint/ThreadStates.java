package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.proto.v1.Rseq;
import dev.ferry.proto.v1.ThreadImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Each thread's CPU and kernel state, read from the stopped threads of one process: registers
 * (as the thread must resume elsewhere: a system call cut short is re-executed or returns
 * EINTR, see {@link Registers#normaliseInterruptedSyscall}), xstate, signal mask, rseq
 * registration and robust list (ptrace and get_robust_list work from outside), its own
 * pending signals and name (/proc/PID/task/TID), its tid inside the LH, and what
 * {@link InjectedState} read inside it (clear-child-tid address, alternate signal stack).
 */
final class ThreadStates {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    private ThreadStates() {}

    /**
     * {@code threads} leader first, {@code raw} their registers as stopped, {@code injected}
     * the per-thread state in the same order.
     */
    static List<ThreadImage> read(int hostPid, List<Tracee> threads, List<Registers> raw, InjectedState injected)
            throws TraceException, IOException {
        List<ThreadImage> out = new ArrayList<>();
        for (int i = 0; i < threads.size(); i++) {
            Tracee t = threads.get(i);
            Path task = Path.of("/proc", Integer.toString(hostPid), "task", Integer.toString(t.pid()));
            ProcessStatus status = ProcessStatus.parse(Files.readString(task.resolve("status")));
            long[] head = new long[1], len = new long[1];
            K.syscall(KernelCalls.SYS_GET_ROBUST_LIST, t.pid(), head, len);
            long[] rseq = t.rseqConfiguration();
            Registers regs = new Registers(raw.get(i).toBytes());
            boolean interrupted = regs.normaliseInterruptedSyscall();
            InjectedState.PerThread own = injected.threads.get(i);
            ThreadImage.Builder b = ThreadImage.newBuilder().setTid(status.nsPids()[status.nsPids().length - 1])
                    .setRegisters(ByteString.copyFrom(regs.toBytes())).setXstate(ByteString.copyFrom(t.xstate()))
                    .setSigmask(t.sigmask()).setPending(status.threadPending())
                    .setRobustList(head[0]).setRobustListLen(len[0]).setClearChildTid(own.clearChildTid())
                    .setSyscallInterrupted(interrupted).setComm(Files.readString(task.resolve("comm")).strip());
            if (rseq[1] != 0) {
                b.setRseq(Rseq.newBuilder().setPointer(rseq[0]).setLength((int) rseq[1]).setSignature((int) rseq[2]));
            }
            if (own.altstack() != null) {
                b.setAltstack(own.altstack());
            }
            out.add(b.build());
        }
        return out;
    }
}
