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
 * steps 5-6): mm fields and exe (PR_SET_MM_MAP), name, files at their fds and offsets, the 62
 * signal actions, umask, cwd, rseq, robust list, tid address, timers, and last the user's
 * credentials. Arguments in memory go through the scratch page.
 */
final class KernelStateWriter {
    private static final int O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000, F_SETFL = 4;
    private static final int SETFL_MASK = 02000 | 04000 | 040000 | 01000000;   // O_APPEND|O_NONBLOCK|O_DIRECT|O_NOATIME

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

    /** {@code pipes}: the LH's private pipes, which {@code p}'s PIPE fds name. */
    void write(ProcessImage p, List<PipeImage> pipes) throws TraceException, IOException {
        setMm(p);
        files(p, pipes);
        rest(p);
    }

    /**
     * Everything after the files, none depending on another's result, in one
     * {@link SyscallBatch} (one trip instead of ~80 single-stepped calls, which cost more than
     * the rest of a pre-copy freeze): name, the signal actions, umask, cwd, rseq, robust list,
     * tid address, credentials last but one (the calls before need root), dumpable, and the
     * interval timers very last (they start counting at once).
     */
    private void rest(ProcessImage p) throws TraceException, IOException {
        ThreadImage t = p.getThreads(0);
        Credentials c = p.getCredentials();
        ByteBuffer data = le(32 * (p.getSignalActionsCount() + p.getItimersCount()) + 4 * c.getGroupsCount()
                + p.getComm().length() * 4 + p.getCwd().length() * 4 + 64);
        List<String> names = new java.util.ArrayList<>();
        int calls = p.getSignalActionsCount() + p.getItimersCount() + 12;
        try (SyscallBatch batch = SyscallBatch.open(tracee, inject, memory, calls, data.capacity())) {
            names.add("prctl(PR_SET_NAME)");
            batch.add(PRCTL, PR_SET_NAME, batch.data(putString(data, p.getComm())));
            for (SignalAction a : p.getSignalActionsList()) {
                names.add("rt_sigaction(" + a.getSignal() + ")");
                batch.add(RT_SIGACTION, a.getSignal(), batch.data(data.position()), 0, 8);
                data.putLong(a.getHandler()).putLong(a.getFlags()).putLong(a.getRestorer()).putLong(a.getMask());
            }
            names.add("umask");
            batch.add(UMASK, p.getUmask());
            names.add("chdir " + p.getCwd());
            batch.add(CHDIR, batch.data(putString(data, p.getCwd())));
            if (t.hasRseq()) {
                names.add("rseq");
                batch.add(RSEQ, t.getRseq().getPointer(), t.getRseq().getLength(), 0, t.getRseq().getSignature());
            }
            if (t.getRobustList() != 0) {
                names.add("set_robust_list");
                batch.add(SET_ROBUST_LIST, t.getRobustList(), t.getRobustListLen());
            }
            names.add("set_tid_address");
            batch.add(SET_TID_ADDRESS, t.getClearChildTid());
            int groupsAt = data.position();
            c.getGroupsList().forEach(data::putInt);
            names.add("setgroups");
            batch.add(SETGROUPS, c.getGroupsCount(), batch.data(groupsAt));
            names.add("setresgid");
            batch.add(SETRESGID, c.getRgid(), c.getEgid(), c.getSgid());
            names.add("setresuid");
            batch.add(SETRESUID, c.getRuid(), c.getEuid(), c.getSuid());
            names.add("prctl(PR_SET_DUMPABLE)");
            batch.add(PRCTL, PR_SET_DUMPABLE, 1);
            for (Itimer it : p.getItimersList()) {
                names.add("setitimer(" + it.getWhich() + ")");
                batch.add(SETITIMER, it.getWhich(), batch.data(data.position()), 0);
                data.putLong(it.getIntervalUsec() / 1_000_000).putLong(it.getIntervalUsec() % 1_000_000)
                        .putLong(it.getValueUsec() / 1_000_000).putLong(it.getValueUsec() % 1_000_000);
            }
            batch.write(0, java.util.Arrays.copyOf(data.array(), data.position()));
            long[] results = batch.run();
            for (int i = 0; i < results.length; i++) {
                if (results[i] < 0 && results[i] >= -4095) {
                    throw new TraceException("injected " + names.get(i) + " in process " + hostPid + " failed", (int) -results[i]);
                }
            }
        }
    }

    /** Puts a NUL-terminated string (8-byte aligned) into {@code data}; returns its offset. */
    private static int putString(ByteBuffer data, String s) throws IOException {
        byte[] b = (s + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length > 4096) {
            throw new IOException("path too long: " + s);
        }
        int at = data.position();
        data.put(b);
        data.position((data.position() + 7) & ~7);
        return at;
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
     * The stub holds the new stdio pipes at 0/1/2. They are first parked above every fd the
     * image uses, and the private pipes are created parked there too; then each image fd is
     * recreated: pipe ends by dup3 from their parked fd (fds of one end share one open file
     * description, as after the dup that usually made them), files by opening the path again
     * (never creating or truncating) and seeking.
     */
    private void files(ProcessImage p, List<PipeImage> pipes) throws TraceException, IOException {
        int park = 3;
        for (FileDescriptor f : p.getFdsList()) {
            park = Math.max(park, f.getFd() + 1);
        }
        long[] parked = new long[3];
        for (int slot = 0; slot < 3; slot++) {
            parked[slot] = inject.check("park stdio " + slot, FCNTL, slot, F_DUPFD_CLOEXEC, park);
            inject.check("close " + slot, CLOSE, slot);
        }
        Map<Integer, PipeBuilder.Ends> privatePipes = new PipeBuilder(inject, memory, space.scratch(), hostPid).create(pipes, park);
        for (FileDescriptor f : p.getFdsList()) {
            long cloexec = f.getFlags() & O_CLOEXEC;
            if (f.getKind() == FileDescriptor.Kind.STDIO_PIPE || f.getKind() == FileDescriptor.Kind.PIPE) {
                long from = f.getKind() == FileDescriptor.Kind.STDIO_PIPE ? parked[f.getStdioSlot()]
                        : f.getWriteEnd() ? privatePipes.get(f.getPipeId()).write() : privatePipes.get(f.getPipeId()).read();
                inject.check("dup3 pipe to " + f.getFd(), DUP3, from, f.getFd(), cloexec);
                inject.check("fcntl F_SETFL " + f.getFd(), FCNTL, f.getFd(), F_SETFL, f.getFlags() & SETFL_MASK);
                continue;
            }
            int flags = f.getFlags() & ~(O_CREAT | O_EXCL | O_TRUNC);
            long fd = inject.check("open " + f.getPath() + " for fd " + f.getFd(), OPENAT, AT_FDCWD, space.string(f.getPath()), flags, 0);
            if (fd != f.getFd()) {
                inject.check("dup3 to fd " + f.getFd(), DUP3, fd, f.getFd(), cloexec);
                inject.check("close", CLOSE, fd);
            }
            if (f.getKind() == FileDescriptor.Kind.REGULAR || f.getKind() == FileDescriptor.Kind.DIRECTORY) {
                inject.check("lseek fd " + f.getFd(), LSEEK, f.getFd(), f.getPosition(), 0);
            }
        }
        for (long fd : parked) {
            inject.check("close parked stdio", CLOSE, fd);
        }
        for (PipeBuilder.Ends e : privatePipes.values()) {
            inject.check("close parked pipe", CLOSE, e.read());
            inject.check("close parked pipe", CLOSE, e.write());
        }
    }

    /** Supplementary groups, then gids, then uids (after setresuid the gids could not change). */
    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
