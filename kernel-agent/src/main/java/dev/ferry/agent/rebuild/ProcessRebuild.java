package dev.ferry.agent.rebuild;

import static dev.ferry.agent.ptrace.Syscalls.*;

import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.FileIdentities;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.ProcessCapture;
import dev.ferry.agent.checkpoint.VmArea;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PipeImage;
import dev.ferry.proto.v1.ProcessImage;
import dev.ferry.proto.v1.RlimitValue;
import dev.ferry.proto.v1.ThreadImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds a captured process inside a restore stub (ferry-init --restore): seizes the stub
 * (with PTRACE_O_EXITKILL, so a failure or a dead tracer never leaves a half-built process
 * running), drops its rseq registration, rebuilds the address space and kernel state, creates
 * its other threads at their old tids ({@link ThreadBuilder}), sets every thread's signal mask,
 * registers and xstate, re-raises pending signals, detaches (optionally into a frozen cgroup).
 */
public final class ProcessRebuild {
    private static final KernelCalls K = KernelCalls.INSTANCE;

    private final PhaseTimer timer;

    public ProcessRebuild() {
        this(PhaseTimer.none());
    }

    public ProcessRebuild(PhaseTimer timer) {
        this.timer = timer;
    }

    public static void verify(CapturedLh captured) throws RebuildException {
        verify(captured, null);
    }

    /**
     * Checks what can be checked before any process exists: format, host compatibility (when
     * {@code here} is given), mapped files, open files.
     */
    public static void verify(CapturedLh captured, HostFeatures here) throws RebuildException {
        LhImage image = captured.image();
        if (here != null) {
            String why = HostCompatibility.mismatch(image.getHost(), here);
            if (why != null) {
                throw new RebuildException("cannot rebuild " + image.getLhId() + " here: " + why);
            }
        }
        if (image.getFormatVersion() != ProcessCapture.FORMAT_VERSION) {
            throw new RebuildException("image format version " + image.getFormatVersion() + " is not supported (this agent reads "
                    + ProcessCapture.FORMAT_VERSION + ")");
        }
        if (!image.getHost().getArch().equals("x86_64")) {
            throw new RebuildException("image is for " + image.getHost().getArch() + ", this host is x86_64");
        }
        if (image.getProcessesCount() != 1) {
            throw new RebuildException("only single-process images can be rebuilt yet");
        }
        if (image.getProcesses(0).getThreadsCount() == 0) {
            throw new RebuildException("the image of " + image.getLhId() + " has a process without threads");
        }
        List<String> problems = new ArrayList<>();
        ProcessImage p = image.getProcesses(0);
        for (Mapping m : p.getMappingsList()) {
            if (!m.getPath().isEmpty() && m.hasFile() && !m.getContentCarried()) {
                String why = FileIdentities.mismatch(Path.of(m.getPath()), m.getOffset(), m.getEnd() - m.getStart(), m.getFile());
                if (why != null) {
                    problems.add(why);
                }
            }
        }
        problems.addAll(FdChecks.problems(image));
        if (!problems.isEmpty()) {
            throw new RebuildException("cannot rebuild " + image.getLhId() + "." + p.getPid() + ": " + String.join("; ", problems));
        }
    }

    /** Rebuilds {@code captured}'s process in the stub whose host pid is {@code stubHostPid}, then lets it run. */
    public void rebuild(int stubHostPid, CapturedLh captured) throws RebuildException {
        rebuild(stubHostPid, captured, null);
    }

    /**
     * As {@link #rebuild(int, CapturedLh)}, but when {@code freezeIn} is given (the stub's LH
     * cgroup) the rebuilt process does not run: the cgroup is frozen while the process is still
     * in its ptrace stop, and only then detached, so it returns frozen and untraced without
     * having executed one instruction of its own. The caller thaws or kills the cgroup.
     */
    public void rebuild(int stubHostPid, CapturedLh captured, LhCgroup freezeIn) throws RebuildException {
        verify(captured, null);
        ProcessImage p = captured.image().getProcesses(0);
        try (TracerThread tracer = new TracerThread("ferry-rebuild-" + captured.image().getLhId())) {
            tracer.call(() -> {
                rebuildTraced(stubHostPid, captured.image().getHost(), p, captured, freezeIn);
                return null;
            });
        } catch (RebuildException e) {
            throw e;
        } catch (Exception e) {
            throw new RebuildException("rebuilding " + captured.image().getLhId() + "." + p.getPid() + ": " + e.getMessage(), e);
        }
    }

    private void rebuildTraced(int hostPid, HostFeatures host, ProcessImage p, CapturedLh captured, LhCgroup freezeIn)
            throws Exception {
        Tracee stub = Tracee.seize(hostPid, true);
        TracedThreads threads = new TracedThreads(stub);
        boolean done = false;
        try (RemoteMemory memory = new RemoteMemory(hostPid)) {
            stub.awaitStop();
            StubControl control = takeOver(stub, hostPid, host, memory);
            timer.mark("seize stub");
            AddressSpaceBuilder space = new AddressSpaceBuilder(control.inject(), memory, timer);
            space.build(control.areas(), p, captured.pages());
            finishState(threads, control.inject(), memory, space, hostPid, p, captured.image().getPipesList(), freezeIn, timer);
            done = true;
        } finally {
            if (!done) {
                threads.killAndReap();
            }
        }
    }

    /** A seized, stopped stub ready for injected calls, and its mappings at that moment. */
    record StubControl(SyscallInjector inject, List<VmArea> areas) {}

    /**
     * Checks that the stub's CPU state layout is the image's, finds a syscall instruction in its
     * vdso to inject calls from, and drops its rseq registration (else the kernel would write
     * the stub's rseq area after its memory is gone).
     */
    static StubControl takeOver(Tracee stub, int hostPid, HostFeatures host, RemoteMemory memory) throws Exception {
        byte[] xstate = stub.xstate();
        HostFeatures here = ProcessCapture.hostFeatures(xstate);
        if (here.getXcr0() != host.getXcr0() || here.getXstateSize() != host.getXstateSize()) {
            throw new RebuildException("CPU state layout differs: image xcr0 0x" + Long.toHexString(host.getXcr0()) + "/"
                    + host.getXstateSize() + " bytes, this host 0x" + Long.toHexString(here.getXcr0()) + "/" + here.getXstateSize());
        }
        List<VmArea> areas = VmArea.parseSmaps(Files.readString(Path.of("/proc", Integer.toString(hostPid), "maps")));
        VmArea vdso = areas.stream().filter(a -> a.path().equals("[vdso]")).findFirst()
                .orElseThrow(() -> new RebuildException("the stub has no [vdso]"));
        int at = SyscallInjector.findSyscallInstruction(memory.read(vdso.start(), (int) vdso.length()));
        SyscallInjector inject = new SyscallInjector(stub, vdso.start() + at);
        long[] rseq = stub.rseqConfiguration();
        if (rseq[1] != 0) {
            inject.check("rseq unregister", RSEQ, rseq[0], rseq[1], RSEQ_FLAG_UNREGISTER, rseq[2]);
        }
        return new StubControl(inject, areas);
    }

    /**
     * After the address space: rlimits, nice, kernel state, the other threads, credentials, then
     * every thread's signal mask, registers, xstate and pending signals; then the threads are let
     * go, into the frozen cgroup when {@code freezeIn} is given (no instruction of the program
     * has run then). {@code threads} holds the stub (the leader) and receives the threads created
     * here, so that the caller can kill them all on failure.
     */
    static void finishState(TracedThreads threads, SyscallInjector inject, RemoteMemory memory, AddressSpaceBuilder space,
                            int hostPid, ProcessImage p, List<PipeImage> pipes, LhCgroup freezeIn, PhaseTimer timer) throws Exception {
        Tracee stub = threads.leader();
        for (RlimitValue r : p.getRlimitsList()) {
            K.prlimit(hostPid, r.getResource(), new long[] {r.getSoft(), r.getHard()}, null);
        }
        K.setpriority(KernelCalls.PRIO_PROCESS, hostPid, p.getNice());
        KernelStateWriter writer = new KernelStateWriter(stub, inject, memory, space, hostPid);
        writer.write(p, pipes);
        new ThreadBuilder(inject, memory, space).create(p.getThreadsList().subList(1, p.getThreadsCount()), p.getCredentials(),
                threads);
        writer.dropToUser(p.getCredentials());
        inject.check("munmap scratch", MUNMAP, space.scratch(), AddressSpaceBuilder.PAGE);
        List<Tracee> all = threads.all();
        for (int i = 0; i < all.size(); i++) {
            ThreadImage t = p.getThreads(i);
            Tracee thread = all.get(i);
            thread.setSigmask(t.getSigmask());
            thread.setRegisters(new Registers(t.getRegisters().toByteArray()));
            thread.setXstate(t.getXstate().toByteArray());
        }
        // pending signals last: they stay pending until the program takes them, and must not stop an injected call
        for (int i = 0; i < all.size(); i++) {
            for (int sig : signals(p.getThreads(i).getPending())) {
                K.syscall(KernelCalls.SYS_TGKILL, hostPid, all.get(i).pid(), sig);
            }
        }
        for (int sig : signals(p.getSharedPending())) {
            K.kill(hostPid, sig);
        }
        timer.mark("kernel state, registers");
        if (freezeIn != null) {
            // a ptrace-stopped task counts as frozen, and leaves the stop straight into the freezer
            freezeIn.freeze();
            threads.detach();
            freezeIn.freeze();   // waits until the kernel reports it frozen without the tracer
            timer.mark("freeze, detach");
        } else {
            threads.detach();
        }
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
}
