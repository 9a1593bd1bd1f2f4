package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.ThreadCloner;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.proto.v1.Credentials;
import dev.ferry.proto.v1.SignalStack;
import dev.ferry.proto.v1.ThreadImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Creates the other threads of a rebuilt process at their old tids ({@link ThreadCloner}: an
 * injected clone3 in the leader, the new thread held before its first instruction) and gives
 * each, by calls injected in that thread, what belongs to a thread rather than to the process:
 * rseq registration, robust-futex list, alternate signal stack, name, and the user's
 * credentials (the leader's follow in {@link KernelStateWriter#dropToUser}, since set_tid needs
 * it to stay root until every thread exists). The clear-child-tid address is set by the clone
 * itself. Registers, signal mask and xstate come last, for every thread together, in
 * {@link ProcessRebuild}.
 */
final class ThreadBuilder {
    private static final int SCRATCH_STACK_T = 1024;   // where a stack_t goes in the scratch page (past the clone arguments)

    private final SyscallInjector leader;
    private final RemoteMemory memory;
    private final AddressSpaceBuilder space;

    ThreadBuilder(SyscallInjector leader, RemoteMemory memory, AddressSpaceBuilder space) {
        this.leader = leader;
        this.memory = memory;
        this.space = space;
    }

    /** Creates {@code others} (every thread but the leader, in image order) and adds them to {@code threads}. */
    void create(List<ThreadImage> others, Credentials user, TracedThreads threads) throws TraceException, IOException {
        if (others.isEmpty()) {
            return;
        }
        ThreadCloner cloner = new ThreadCloner(leader, memory, space.scratch());
        for (ThreadImage t : others) {
            Tracee thread = cloner.cloneAt(t.getTid(), t.getClearChildTid());
            threads.add(thread);
            SyscallInjector own = leader.forThread(thread);
            ownState(own, memory, space, t);
            KernelStateWriter.credentials(own, memory, space.scratch(), user);
        }
    }

    /** rseq, robust list, alternate signal stack and name of the thread {@code inject} runs in. */
    static void ownState(SyscallInjector inject, RemoteMemory memory, AddressSpaceBuilder space, ThreadImage t)
            throws TraceException, IOException {
        if (t.hasRseq()) {
            inject.check("rseq", RSEQ, t.getRseq().getPointer(), t.getRseq().getLength(), 0, t.getRseq().getSignature());
        }
        if (t.getRobustList() != 0) {
            inject.check("set_robust_list", SET_ROBUST_LIST, t.getRobustList(), t.getRobustListLen());
        }
        if (t.hasAltstack()) {
            SignalStack s = t.getAltstack();
            ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(s.getPointer()).putInt(s.getFlags()).putInt(0).putLong(s.getSize());
            long at = space.scratch() + SCRATCH_STACK_T;
            memory.write(at, b.array());
            inject.check("sigaltstack", SIGALTSTACK, at, 0);
        }
        if (!t.getComm().isEmpty()) {
            inject.check("prctl(PR_SET_NAME)", PRCTL, PR_SET_NAME, space.string(t.getComm()));
        }
    }
}
