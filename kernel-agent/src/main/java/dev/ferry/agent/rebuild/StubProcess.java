package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TraceException;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.PageBatch;
import dev.ferry.proto.v1.ProcessImage;
import dev.ferry.proto.v1.RlimitValue;
import dev.ferry.proto.v1.ThreadImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One restore stub being turned into one captured process, step by step, so that the steps of
 * all the processes of an LH can be interleaved where they depend on each other (files shared
 * between processes, process groups led by another process): {@link #memory}, then
 * {@link #kernelState} (with its other threads), {@link #joinGroup}, {@link #finish}. Every
 * call runs on the tracer thread that seized the stub.
 */
final class StubProcess implements AutoCloseable {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    final ProcessImage image;
    final int hostPid;
    final TracedThreads threads;
    private final RemoteMemory memory;
    private final SyscallInjector inject;
    private final AddressSpaceBuilder space;
    private final List<VmArea> stubAreas;
    private final PhaseTimer timer;

    StubProcess(ProcessImage image, int hostPid, TracedThreads threads, RemoteMemory memory, SyscallInjector inject,
                AddressSpaceBuilder space, List<VmArea> stubAreas, PhaseTimer timer) {
        this.image = image;
        this.hostPid = hostPid;
        this.threads = threads;
        this.memory = memory;
        this.inject = inject;
        this.space = space;
        this.stubAreas = stubAreas;
        this.timer = timer;
    }

    /**
     * Seizes the stub {@code hostPid} (PTRACE_O_EXITKILL: a failure or a dead tracer never leaves
     * a half-built process running), checks its CPU state layout against {@code host} and takes
     * it over ({@link ProcessRebuild#takeOver}). {@code onSeized} receives its threads at once,
     * so that the caller can kill it if anything after the seize fails.
     */
    static StubProcess seize(ProcessImage image, int hostPid, HostFeatures host, PhaseTimer timer,
                             java.util.function.Consumer<TracedThreads> onSeized) throws Exception {
        Tracee stub = Tracee.seize(hostPid, true);
        TracedThreads threads = new TracedThreads(stub);
        onSeized.accept(threads);
        stub.awaitStop();
        RemoteMemory memory = new RemoteMemory(hostPid);
        try {
            ProcessRebuild.StubControl control = ProcessRebuild.takeOver(stub, hostPid, host, memory);
            timer.mark("seize stub");
            return new StubProcess(image, hostPid, threads, memory, control.inject(),
                    new AddressSpaceBuilder(control.inject(), memory, timer), control.areas(), timer);
        } catch (Exception e) {
            memory.close();
            throw e;
        }
    }

    /**
     * The whole address space with its pages (those of {@code pages} that are this process'),
     * mappings of shared memory objects from {@code shared}.
     */
    void memory(List<PageBatch> pages, SharedMemoryBuilder shared) throws TraceException, IOException, RebuildException {
        space.sharedMemory(shared, image.getPid(), hostPid);
        space.build(stubAreas, image, pages);
    }

    /**
     * Limits, nice, the kernel state of {@link KernelStateWriter} (its files through
     * {@code files}, shared with the LH's other processes), then its other threads.
     */
    void kernelState(LhFileBuilder files) throws Exception {
        for (RlimitValue r : image.getRlimitsList()) {
            K.prlimit(hostPid, r.getResource(), new long[] {r.getSoft(), r.getHard()}, null);
        }
        K.setpriority(KernelCalls.PRIO_PROCESS, hostPid, image.getNice());
        new KernelStateWriter(threads.leader(), inject, memory, space, hostPid).write(image, files);
        new ThreadBuilder(inject, memory, space).create(image.getThreadsList().subList(1, image.getThreadsCount()),
                image.getCredentials(), threads);
    }

    /**
     * Joins the process group it was in, when that is led by another process (the stubs took
     * their sessions, and the groups they lead, when the init made them; every leader exists now).
     */
    void joinGroup() throws TraceException, IOException {
        if (image.getPgid() != 0 && currentGroup() != image.getPgid()) {
            inject.check("setpgid " + image.getPgid(), SETPGID, 0, image.getPgid());
        }
    }

    private int currentGroup() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(hostPid), "status"))) {
            if (line.startsWith("NSpgid:")) {
                String[] v = line.substring(7).strip().split("\\s+");
                return Integer.parseInt(v[v.length - 1]);
            }
        }
        throw new IOException("no NSpgid for process " + hostPid);
    }

    /**
     * The user's credentials (the leader's; its other threads took theirs), then every thread's
     * signal mask, registers and xstate, then the pending signals (last: they must not stop an
     * injected call).
     */
    void finish() throws Exception {
        new KernelStateWriter(threads.leader(), inject, memory, space, hostPid).dropToUser(image.getCredentials());
        inject.check("munmap scratch", MUNMAP, space.scratch(), AddressSpaceBuilder.PAGE);
        List<Tracee> all = threads.all();
        for (int i = 0; i < all.size(); i++) {
            ThreadImage t = image.getThreads(i);
            Tracee thread = all.get(i);
            thread.setSigmask(t.getSigmask());
            thread.setRegisters(new Registers(t.getRegisters().toByteArray()));
            thread.setXstate(t.getXstate().toByteArray());
        }
        for (int i = 0; i < all.size(); i++) {
            for (int sig : signals(image.getThreads(i).getPending())) {
                K.syscall(KernelCalls.SYS_TGKILL, hostPid, all.get(i).pid(), sig);
            }
        }
        for (int sig : signals(image.getSharedPending())) {
            K.kill(hostPid, sig);
        }
        timer.mark("kernel state, registers");
    }

    /** The signal numbers of a pending-signal mask (bit n-1 = signal n). */
    private static List<Integer> signals(long mask) {
        List<Integer> out = new ArrayList<>();
        for (int sig = 1; sig <= 64; sig++) {
            if ((mask & (1L << (sig - 1))) != 0) {
                out.add(sig);
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        memory.close();
    }
}
