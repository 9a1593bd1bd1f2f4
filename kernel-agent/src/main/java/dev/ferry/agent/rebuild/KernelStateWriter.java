package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallBatch;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.proto.v1.Credentials;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.Itimer;
import dev.ferry.proto.v1.MmFields;
import dev.ferry.proto.v1.PipeImage;
import dev.ferry.proto.v1.ProcessImage;
import dev.ferry.proto.v1.SignalAction;
import dev.ferry.proto.v1.ThreadImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * Gives the rebuilt process the captured kernel state by injected calls (DESIGN.md §5, rebuild
 * steps 5-6): mm fields and exe (PR_SET_MM_MAP), name, files ({@link LhFileBuilder}), the 62
 * signal actions, umask, cwd, the leader thread's own state ({@link ThreadBuilder#ownState}),
 * timers; and, in {@link #dropToUser}, once every thread exists, the user's credentials.
 * Arguments in memory go through the scratch page.
 */
final class KernelStateWriter {
    private static final int SIGCHLD = 17;

    private final SyscallInjector inject;
    private final RemoteMemory memory;
    private final AddressSpaceBuilder space;
    private final int hostPid;

    private final Tracee tracee;

    KernelStateWriter(Tracee tracee, SyscallInjector inject, RemoteMemory memory, AddressSpaceBuilder space, int hostPid) {
        this.tracee = tracee;
        this.inject = inject;
        this.memory = memory;
        this.space = space;
        this.hostPid = hostPid;
    }

    /** {@code files}: the LH's files, made or taken for {@code p}'s fds. */
    void write(ProcessImage p, LhFileBuilder files) throws TraceException, IOException {
        setMm(p);
        inject.check("prctl(PR_SET_NAME)", PRCTL, PR_SET_NAME, space.string(p.getComm()));
        files.install(p.getPid(), hostPid, p.getFdsList(), inject, memory, space);
        signalsAndTimers(p);
        inject.check("umask", UMASK, p.getUmask());
        inject.check("chdir " + p.getCwd(), CHDIR, space.string(p.getCwd()));
        ThreadImage t = p.getThreads(0);
        ThreadBuilder.ownState(inject, memory, space, t);
        inject.check("set_tid_address", SET_TID_ADDRESS, t.getClearChildTid());
    }

    /**
     * The leader drops to the user's credentials (each other thread did already, see
     * {@link ThreadBuilder}: credentials belong to a thread, and the raw calls change only the
     * caller's), then the process becomes dumpable again, as the user's own processes are.
     */
    void dropToUser(Credentials c) throws TraceException, IOException {
        credentials(inject, memory, space.scratch(), c);
        inject.check("prctl(PR_SET_DUMPABLE)", PRCTL, PR_SET_DUMPABLE, 1);
    }

    /**
     * The signal actions and interval timers in one {@link SyscallBatch} (62 single injected
     * calls cost more than everything else a pre-copy freeze does). Timers are set last, as
     * before: they start counting at once.
     */
    private void signalsAndTimers(ProcessImage p) throws TraceException, IOException {
        List<SignalAction> actions = p.getSignalActionsList();
        List<Itimer> timers = p.getItimersList();
        ByteBuffer data = le(32 * (actions.size() + timers.size() + 1));   // the last 32 bytes: a zeroed sigaction (SIG_DFL)
        try (SyscallBatch batch = SyscallBatch.open(tracee, inject, memory, actions.size() + timers.size() + 1, data.capacity())) {
            List<String> names = new java.util.ArrayList<>();
            // SIG_DFL first: SIGCHLD's default is to ignore, so this drops the SIGCHLD a stub got
            // when its zombie children were made; the program's own action follows
            batch.add(RT_SIGACTION, SIGCHLD, batch.data(data.capacity() - 32), 0, 8);
            names.add("rt_sigaction(SIGCHLD, SIG_DFL)");
            for (SignalAction a : actions) {
                batch.add(RT_SIGACTION, a.getSignal(), batch.data(data.position()), 0, 8);
                data.putLong(a.getHandler()).putLong(a.getFlags()).putLong(a.getRestorer()).putLong(a.getMask());
                names.add("rt_sigaction(" + a.getSignal() + ")");
            }
            for (Itimer it : timers) {
                batch.add(SETITIMER, it.getWhich(), batch.data(data.position()), 0);
                data.putLong(it.getIntervalUsec() / 1_000_000).putLong(it.getIntervalUsec() % 1_000_000)
                        .putLong(it.getValueUsec() / 1_000_000).putLong(it.getValueUsec() % 1_000_000);
                names.add("setitimer(" + it.getWhich() + ")");
            }
            batch.write(0, data.array());
            long[] results = batch.run();
            for (int i = 0; i < results.length; i++) {
                if (results[i] < 0 && results[i] >= -4095) {
                    throw new TraceException("injected " + names.get(i) + " in process " + hostPid + " failed", (int) -results[i]);
                }
            }
        }
    }

    /** struct prctl_mm_map (104 bytes) then the auxv, both in the scratch page; exe opened O_RDONLY. */
    private void setMm(ProcessImage p) throws TraceException, IOException {
        MmFields mm = p.getMm();
        byte[] auxv = mm.getAuxv().toByteArray();
        long exeFd = inject.check("open exe " + p.getExe(), OPENAT, AT_FDCWD, space.string(p.getExe()), O_RDONLY | O_CLOEXEC, 0);
        try {
            long auxvAt = space.scratch() + 128;
            ByteBuffer b = le(128 + auxv.length);
            b.putLong(mm.getStartCode()).putLong(mm.getEndCode()).putLong(mm.getStartData()).putLong(mm.getEndData())
                    .putLong(mm.getStartBrk()).putLong(mm.getBrk()).putLong(mm.getStartStack()).putLong(mm.getArgStart())
                    .putLong(mm.getArgEnd()).putLong(mm.getEnvStart()).putLong(mm.getEnvEnd()).putLong(auxvAt)
                    .putInt(auxv.length).putInt((int) exeFd);
            b.position(128);
            b.put(auxv);
            memory.write(space.scratch(), b.array());
            inject.check("prctl(PR_SET_MM_MAP)", PRCTL, PR_SET_MM, PR_SET_MM_MAP, space.scratch(), 104, 0);
        } finally {
            inject.call(CLOSE, exeFd);
        }
    }

    /**
     * Supplementary groups, then gids, then uids (after setresuid the gids could not change), in
     * the thread {@code inject} runs in.
     */
    static void credentials(SyscallInjector inject, RemoteMemory memory, long scratch, Credentials c)
            throws TraceException, IOException {
        ByteBuffer groups = le(Math.max(4, c.getGroupsCount() * 4));
        c.getGroupsList().forEach(groups::putInt);
        memory.write(scratch, groups.array());
        inject.check("setgroups", SETGROUPS, c.getGroupsCount(), scratch);
        inject.check("setresgid", SETRESGID, c.getRgid(), c.getEgid(), c.getSgid());
        inject.check("setresuid", SETRESUID, c.getRuid(), c.getEuid(), c.getSuid());
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
