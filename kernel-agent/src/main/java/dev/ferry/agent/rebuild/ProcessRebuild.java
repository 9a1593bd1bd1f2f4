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
import java.util.Map;

/**
 * Rebuilds the captured processes of an LH inside their restore stubs (ferry-init --restore,
 * --restore-tree), each by a {@link StubProcess}: seized with PTRACE_O_EXITKILL (a failure or a
 * dead tracer never leaves a half-built process running), its address space and kernel state
 * rebuilt, its other threads created at their old tids ({@link ThreadBuilder}), the files the
 * processes shared made once ({@link LhFileBuilder}), process groups rejoined, every thread's
 * signal mask, registers and xstate set, pending signals raised; then all are detached together
 * (optionally into a frozen cgroup).
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
        if (image.getProcessesCount() == 0 || image.getProcesses(0).getZombie() || image.getProcesses(0).getPpid() != 1) {
            throw new RebuildException("the image of " + image.getLhId() + " does not start with its program");
        }
        List<String> problems = new ArrayList<>();
        for (ProcessImage p : image.getProcessesList()) {
            if (!p.getZombie() && p.getThreadsCount() == 0) {
                problems.add("process " + p.getPid() + " has no threads");
            }
            for (Mapping m : p.getMappingsList()) {
                if (!m.getPath().isEmpty() && m.hasFile() && !m.getContentCarried() && m.getShmId() == 0) {
                    String why = FileIdentities.mismatch(Path.of(m.getPath()), m.getOffset(), m.getEnd() - m.getStart(), m.getFile());
                    if (why != null) {
                        problems.add(why);
                    }
                }
            }
        }
        problems.addAll(FdChecks.problems(image));
        if (!problems.isEmpty()) {
            throw new RebuildException("cannot rebuild " + image.getLhId() + "." + image.getProcesses(0).getPid() + ": "
                    + String.join("; ", problems));
        }
    }

    /** Rebuilds {@code captured}'s process in the stub whose host pid is {@code stubHostPid}, then lets it run. */
    public void rebuild(int stubHostPid, CapturedLh captured) throws RebuildException {
        rebuild(Map.of(captured.image().getProcesses(0).getPid(), stubHostPid), captured, null);
    }

    /**
     * Rebuilds every process of {@code captured} in its stub ({@code hostPids}: the stubs' host
     * pids by pid in the LH, from {@code ferry-init --restore-tree}). When {@code freezeIn} is
     * given (the stubs' LH cgroup) the rebuilt processes do not run: the cgroup is frozen while
     * they are still in their ptrace stops, and only then are they detached, so they come back
     * frozen and untraced without having executed one instruction of their own. The caller
     * thaws or kills the cgroup.
     */
    public void rebuild(Map<Integer, Integer> hostPids, CapturedLh captured, LhCgroup freezeIn) throws RebuildException {
        verify(captured, null);
        try (TracerThread tracer = new TracerThread("ferry-rebuild-" + captured.image().getLhId())) {
            tracer.call(() -> {
                rebuildTraced(hostPids, captured, freezeIn);
                return null;
            });
        } catch (RebuildException e) {
            throw e;
        } catch (Exception e) {
            throw new RebuildException("rebuilding " + captured.image().getLhId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The processes step by step, each step for all of them before the next: memory; kernel
     * state and files (a file shared with a process made earlier is taken from it); the pipes'
     * parked ends closed; process groups joined (every leader exists now); credentials and
     * registers; then all let go at once.
     */
    private void rebuildTraced(Map<Integer, Integer> hostPids, CapturedLh captured, LhCgroup freezeIn) throws Exception {
        LhImage image = captured.image();
        List<StubProcess> stubs = new ArrayList<>();
        List<TracedThreads> seized = new ArrayList<>();
        int park = 64;
        for (ProcessImage p : image.getProcessesList()) {
            for (var f : p.getFdsList()) {
                park = Math.max(park, f.getFd() + 16);
            }
        }
        SharedMemoryBuilder shared = new SharedMemoryBuilder(image.getSharedMemoryList(), captured.pages(), park);
        boolean done = false;
        try {
            for (ProcessImage p : image.getProcessesList()) {
                if (p.getZombie()) {
                    continue;
                }
                Integer host = hostPids.get(p.getPid());
                if (host == null) {
                    throw new RebuildException("no restore stub for process " + p.getPid() + " of " + image.getLhId());
                }
                StubProcess s = StubProcess.seize(p, host, image.getHost(), timer, seized::add);
                stubs.add(s);
                s.memory(captured.pages(), shared);
            }
            LhFileBuilder files = new LhFileBuilder(image.getPipesList(), shared);
            for (StubProcess s : stubs) {
                s.kernelState(files);
            }
            files.closeParked();
            shared.closeParked();
            for (StubProcess s : stubs) {
                s.joinGroup();
            }
            for (StubProcess s : stubs) {
                s.finish();
            }
            letGo(seized, freezeIn, timer);
            done = true;
        } finally {
            if (!done) {
                for (int i = seized.size() - 1; i >= 0; i--) {
                    seized.get(i).killAndReap();
                }
            }
            for (StubProcess s : stubs) {
                s.close();
            }
        }
    }

    /**
     * Detaches every thread, into the frozen cgroup when {@code freezeIn} is given: a
     * ptrace-stopped task counts as frozen, and leaves the stop straight into the freezer.
     */
    private static void letGo(List<TracedThreads> all, LhCgroup freezeIn, PhaseTimer timer) throws java.io.IOException {
        if (freezeIn != null) {
            freezeIn.freeze();
            all.forEach(TracedThreads::detach);
            freezeIn.freeze();   // waits until the kernel reports it frozen without the tracer
            timer.mark("freeze, detach");
        } else {
            all.forEach(TracedThreads::detach);
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
     * After the address space of a single process (pre-copy): its kernel state, files, threads,
     * credentials and registers; then it is let go, into the frozen cgroup when {@code freezeIn}
     * is given. {@code threads} holds the stub (the leader) and receives the threads created
     * here, so that the caller can kill them all on failure.
     */
    static void finishState(TracedThreads threads, SyscallInjector inject, RemoteMemory memory, AddressSpaceBuilder space,
                            int hostPid, ProcessImage p, List<PipeImage> pipes, LhCgroup freezeIn, PhaseTimer timer) throws Exception {
        StubProcess s = new StubProcess(p, hostPid, threads, memory, inject, space, List.of(), timer);
        LhFileBuilder files = new LhFileBuilder(pipes, null);
        s.kernelState(files);
        files.closeParked();
        s.joinGroup();
        s.finish();
        letGo(List.of(threads), freezeIn, timer);
    }
}
