package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.linux.jna.KernelCalls;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.SyscallInjector;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.Credentials;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.MmFields;
import dev.ferry.proto.v1.PageIndex;
import dev.ferry.proto.v1.PipeImage;
import dev.ferry.proto.v1.ProcessImage;
import dev.ferry.proto.v1.RlimitValue;
import dev.ferry.proto.v1.ThreadImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Captures a logical host whose program is one process (besides the LH's init), with all its
 * threads, into a {@link CapturedLh}.
 *
 * <p>Order, so that a refusal or failure never harms the program: (1) everything that can be
 * checked from /proc without touching the process (tracer, fds, mappings) is checked and
 * refused as a list of blockers; (2) the cgroup is frozen, every thread seized and interrupted
 * on a dedicated tracer thread (frozen, no thread can start or end meanwhile), the cgroup
 * thawed (the threads stay in their ptrace stops; with the v1 freezer the stops only arrive
 * now); (3) injected calls (brk, signal actions, timers; each thread's tid address and
 * alternate signal stack in that thread), each thread's state ({@link ThreadStates}), /proc
 * state and pages; (4) the process is killed while stopped, left to run on, or left frozen
 * without a tracer ({@link AfterCapture}). On any failure every thread's registers are put
 * back and they are detached and thawed.
 */
public final class ProcessCapture {
    private static final KernelCalls K = KernelCalls.INSTANCE;
    /** Version of the LhImage metadata (and of the image files): 2 added private pipes and devices. */
    public static final int FORMAT_VERSION = ImageWriter.VERSION;

    private final ProcFs proc = ProcFs.host();

    private final PhaseTimer timer;

    public ProcessCapture() {
        this(PhaseTimer.none());
    }

    /** A capture that records where its time goes in {@code timer}. */
    public ProcessCapture(PhaseTimer timer) {
        this.timer = timer;
    }

    /** Captures into memory (native, not the Java heap): for migration, or to save later with {@link ImageWriter}. */
    public CapturedLh capture(String lhId, LhCgroup cgroup, AfterCapture after)
            throws CaptureRefusedException, CaptureException {
        MemoryPageSink sink = new MemoryPageSink();
        LhImage image = capture(lhId, cgroup, after, sink, i -> { });
        return new CapturedLh(image, sink.batches());
    }

    /**
     * Captures straight into the image directory {@code dir} (see {@link ImageWriter} for the
     * format): page data streams to pages.bin while the program is stopped, so memory use does
     * not grow with the program's size. The image is complete (and forced to disk if
     * {@code fsync}) before the program is killed, let go or left frozen; on any failure the program runs on
     * unharmed and no lh.img is left in {@code dir}. Returns the image's metadata.
     */
    public LhImage captureTo(String lhId, LhCgroup cgroup, AfterCapture after, Path dir, boolean fsync)
            throws CaptureRefusedException, CaptureException {
        try {
            ImageWriter.begin(dir);
        } catch (IOException e) {
            throw new CaptureException("preparing the image directory " + dir + ": " + e.getMessage(), e);
        }
        try (PageFileWriter pages = new PageFileWriter(dir, fsync)) {
            return capture(lhId, cgroup, after, pages, image -> {
                PageIndex index = pages.finish();
                timer.mark("finish pages file");
                ImageWriter.commit(dir, image, index, fsync);
                timer.mark("write metadata");
            });
        } catch (IOException e) {
            throw new CaptureException("writing the image to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Captures everything but the pages, for the freeze of a pre-copy migration: the pages came
     * in the rounds before, the last ones are read by the caller while the LH is frozen (so use
     * {@link AfterCapture#FREEZE}, or read them first). Mappings carry no page counts.
     */
    public LhImage captureState(String lhId, LhCgroup cgroup, AfterCapture after, VmFlagsSnapshot flags)
            throws CaptureRefusedException, CaptureException {
        this.flags = flags;
        return capture(lhId, cgroup, after, null, i -> { });
    }

    /** Where the areas' VmFlags come from at a pre-copy freeze (null: read smaps). */
    private VmFlagsSnapshot flags;

    /**
     * Refuses, without touching the program, what cannot be captured (a tracer, sockets and
     * other files, memory kinds): pre-copy asks before it sends anything. The
     * capture at the freeze checks again.
     */
    public void check(String lhId, LhCgroup cgroup) throws CaptureRefusedException, CaptureException {
        inspect(lhId, cgroup);
    }

    private record Inspected(int hostPid, int lhPid, Path procPid, String who) {}

    private Inspected inspect(String lhId, LhCgroup cgroup) throws CaptureRefusedException, CaptureException {
        int hostPid = ProgramProcess.find(lhId, cgroup, proc);
        Path procPid = Path.of("/proc", Integer.toString(hostPid));
        ProcessStatus status;
        try {
            status = ProcessStatus.parse(Files.readString(procPid.resolve("status")));
        } catch (IOException e) {
            throw new CaptureException("reading the status of " + lhId + ": " + e.getMessage(), e);
        }
        int lhPid = status.nsPids()[status.nsPids().length - 1];
        String who = "cannot migrate " + lhId + "." + lhPid + " (" + status.name() + ")";
        List<String> blockers = new ArrayList<>();
        if (status.state() == 'Z') {
            blockers.add(who + ": its main thread has ended while other threads run on (a zombie thread group leader cannot be rebuilt)");
        }
        if (status.tracerPid() != 0) {
            blockers.add(who + ": it is already traced by process " + status.tracerPid());
        }
        List<FileDescriptor> fds;
        List<VmArea> areas;
        try {
            fds = FdTable.inspect(procPid, who, blockers);
            areas = VmArea.parseSmaps(Files.readString(procPid.resolve("maps")));   // enough for blockers; smaps walks page tables
        } catch (IOException e) {
            throw new CaptureException("inspecting " + lhId + "." + lhPid + ": " + e.getMessage(), e);
        }
        Mappings.of(areas, who, blockers);
        if (!blockers.isEmpty()) {
            throw new CaptureRefusedException(blockers);
        }
        return new Inspected(hostPid, lhPid, procPid, who);
    }

    /** Called with the finished metadata while the program is still stopped. */
    private interface Commit {
        void accept(LhImage image) throws IOException;
    }

    private LhImage capture(String lhId, LhCgroup cgroup, AfterCapture after, PageSink sink, Commit commit)
            throws CaptureRefusedException, CaptureException {
        timer.restart();
        Inspected it = inspect(lhId, cgroup);
        int hostPid = it.hostPid(), lhPid = it.lhPid();
        Path procPid = it.procPid();
        String who = it.who();
        timer.mark("inspect");
        try (TracerThread tracer = new TracerThread("ferry-capture-" + lhId)) {
            return tracer.call(() -> captureStopped(lhId, cgroup, hostPid, lhPid, procPid, who, after, sink, commit));
        } catch (CaptureException | CaptureRefusedException e) {
            throw e;
        } catch (Exception e) {
            String why = Files.exists(procPid) ? e.getMessage() : "it ended during the capture";   // then the cgroup may be gone too
            throw new CaptureException("capturing " + lhId + "." + lhPid + ": " + why, e);
        }
    }

    private LhImage captureStopped(String lhId, LhCgroup cgroup, int hostPid, int lhPid, Path procPid, String who,
                                   AfterCapture after, PageSink sink, Commit commit) throws Exception {
        cgroup.freeze();
        timer.mark("freeze");
        TracedThreads threads;
        try {
            threads = TracedThreads.seizeAll(hostPid);   // frozen: no thread can start or end meanwhile
        } catch (Exception e) {
            cgroup.thaw();
            throw e;
        }
        List<Registers> raw = null;
        boolean done = false;
        boolean refreezing = false;
        try (RemoteMemory memory = new RemoteMemory(hostPid)) {
            cgroup.thaw();          // the threads stay in their ptrace stops
            threads.awaitStops();
            raw = new ArrayList<>();
            for (Tracee t : threads.all()) {
                raw.add(t.registers());
            }
            if (!new java.util.HashSet<>(TracedThreads.tids(hostPid)).equals(
                    new java.util.HashSet<>(threads.all().stream().map(Tracee::pid).toList()))) {
                throw new CaptureException("capturing " + lhId + "." + lhPid + ": a thread started or ended during the capture", null);
            }
            timer.mark("seize");
            // read again now that it is stopped: files, offsets and mappings changed while it ran
            List<String> blockers = new ArrayList<>();
            ProcessStatus status = ProcessStatus.parse(Files.readString(procPid.resolve("status")));
            List<FileDescriptor> fds = FdTable.inspect(procPid, who, blockers);
            List<Mapping.Builder> mappings = Mappings.of(areasWithFlags(procPid), who, blockers);
            if (!blockers.isEmpty()) {
                throw new CaptureRefusedException(blockers);
            }
            timer.mark("inspect again, stopped");
            LhImage captured = captureState(lhId, hostPid, lhPid, procPid, status, fds, mappings, threads, raw, memory, sink);
            commit.accept(captured);
            switch (after) {
                case KILL -> threads.kill();   // ends on its own; see Tracee.kill
                case LEAVE_RUNNING -> {
                    putBack(threads, raw);
                    threads.detach();
                }
                case FREEZE -> {
                    putBack(threads, raw);
                    raw = null;             // already put back: a failure below must not touch a detached tracee
                    refreezing = true;
                    detachFrozen(threads, cgroup);
                }
            }
            timer.mark(switch (after) { case KILL -> "kill"; case LEAVE_RUNNING -> "detach"; case FREEZE -> "freeze, detach"; });
            done = true;
            return captured;
        } finally {
            if (!done) {
                try {
                    if (raw != null) {
                        putBack(threads, raw);
                    }
                } finally {
                    threads.detach();
                    if (refreezing || cgroup.frozen()) {   // a freeze that timed out may have left it half-frozen
                        cgroup.thaw();
                    }
                }
            }
        }
    }

    /** Every thread's registers as it was stopped (injected calls put them back already; this is the safety net). */
    private static void putBack(TracedThreads threads, List<Registers> raw) throws Exception {
        List<Tracee> all = threads.all();
        for (int i = 0; i < raw.size(); i++) {
            all.get(i).setRegisters(raw.get(i));
        }
    }

    /** The stopped process' areas with their VmFlags: from the pre-copy snapshot when it still fits, else from smaps. */
    private List<VmArea> areasWithFlags(Path procPid) throws IOException {
        if (flags != null) {
            java.util.Optional<List<VmArea>> known = flags.withFlags(VmArea.parseSmaps(Files.readString(procPid.resolve("maps"))));
            if (known.isPresent()) {
                return known.get();
            }
        }
        return VmArea.parseSmaps(Files.readString(procPid.resolve("smaps")));
    }

    /**
     * Leaves the stopped tracee frozen and untraced. A task in a ptrace stop counts as frozen
     * for both freezers, so the cgroup freezes around it; after PTRACE_DETACH the task leaves
     * the ptrace stop only to enter the freezer before returning to user mode (cgroup2: the
     * freezer trap in the signal path; v1: it is already in TASK_FROZEN, and the detach succeeds
     * on it — measured on Linux 6.18; on thaw it resumes where it was stopped). The second
     * freeze only waits until the kernel reports the cgroup frozen again without the tracer.
     */
    private static void detachFrozen(TracedThreads threads, LhCgroup cgroup) throws IOException {
        cgroup.freeze();
        threads.detach();
        cgroup.freeze();
    }

    private LhImage captureState(String lhId, int hostPid, int lhPid, Path procPid, ProcessStatus status,
                                 List<FileDescriptor> fds, List<Mapping.Builder> mappings, TracedThreads threads,
                                 List<Registers> raw, RemoteMemory memory, PageSink sink) throws Exception {
        Tracee tracee = threads.leader();
        byte[] xstate = tracee.xstate();

        Mapping.Builder vdso = mappings.stream().filter(m -> m.getSpecial() == Mapping.Special.VDSO).findFirst()
                .orElseThrow(() -> new CaptureException("process " + hostPid + " has no [vdso] to inject system calls from", null));
        int at = SyscallInjector.findSyscallInstruction(memory.read(vdso.getStart(), (int) (vdso.getEnd() - vdso.getStart())));
        if (at < 0) {
            throw new CaptureException("no syscall instruction in the vdso of " + hostPid, null);
        }
        List<Tracee> others = threads.all().subList(1, threads.all().size());
        InjectedState injected = InjectedState.read(tracee, new SyscallInjector(tracee, vdso.getStart() + at), memory, others);
        List<ThreadImage> threadImages = ThreadStates.read(hostPid, threads.all(), raw, injected);

        ProcStat stat = ProcStat.parse(Files.readString(procPid.resolve("stat")));
        MmFields mm = stat.mmFields().setBrk(injected.brk)
                .setAuxv(ByteString.copyFrom(Files.readAllBytes(procPid.resolve("auxv")))).build();
        byte[] stdin = stdinIsPipe(fds) ? PipeContent.peek(hostPid, 0).unread() : new byte[0];
        List<PipeImage> pipes = PipeContent.privatePipes(hostPid, fds);
        timer.mark("registers, kernel state");
        long pageCount = sink == null ? 0 : new PageReader(hostPid, lhPid, memory).read(mappings, sink);
        timer.mark("read pages");
        for (Mapping.Builder m : mappings) {
            if (!m.getPath().isEmpty() && !m.getContentCarried()) {
                m.setFile(FileIdentities.of(Path.of(m.getPath()), m.getOffset(), m.getEnd() - m.getStart()));
            }
        }
        timer.mark("file identities");

        ProcessImage.Builder p = ProcessImage.newBuilder().setPid(lhPid).setPpid(1)   // single-process LHs: the parent is the LH's init
                .setPgid(lhPid).setExe(Files.readSymbolicLink(procPid.resolve("exe")).toString())
                .setComm(Files.readString(procPid.resolve("comm")).strip())
                .setCwd(Files.readSymbolicLink(procPid.resolve("cwd")).toString()).setUmask(status.umask())
                .setNice(stat.nice()).setCredentials(credentials(status)).addAllRlimits(rlimits(hostPid)).setMm(mm)
                .addAllFds(fds).addAllSignalActions(injected.actions).setSharedPending(status.sharedPending())
                .addAllThreads(threadImages).addAllItimers(injected.itimers).setPageCount(pageCount);
        for (Mapping.Builder m : mappings) {
            p.addMappings(m);
        }
        LhImage image = LhImage.newBuilder().setFormatVersion(FORMAT_VERSION).setLhId(lhId)
                .setCapturedUnixMillis(System.currentTimeMillis()).setHost(hostFeatures(xstate)).addProcesses(p)
                .setPendingStdin(ByteString.copyFrom(stdin)).addAllPipes(pipes).build();
        timer.mark("metadata");
        return image;
    }

    private static boolean stdinIsPipe(List<FileDescriptor> fds) {
        return fds.stream().anyMatch(f -> f.getFd() == 0 && f.getKind() == FileDescriptor.Kind.STDIO_PIPE);
    }

    private static Credentials credentials(ProcessStatus s) {
        Credentials.Builder c = Credentials.newBuilder().setRuid(s.uids()[0]).setEuid(s.uids()[1]).setSuid(s.uids()[2])
                .setRgid(s.gids()[0]).setEgid(s.gids()[1]).setSgid(s.gids()[2]);
        s.groups().forEach(c::addGroups);
        return c.build();
    }

    private static List<RlimitValue> rlimits(int hostPid) {
        List<RlimitValue> out = new ArrayList<>();
        for (int r = 0; r < 16; r++) {
            long[] old = new long[2];
            K.prlimit(hostPid, r, null, old);
            out.add(RlimitValue.newBuilder().setResource(r).setSoft(old[0]).setHard(old[1]).build());
        }
        return out;
    }

    /** What a rebuilding host must match; ptrace puts XCR0 at offset 464 of NT_X86_XSTATE (the fxsave area's software bytes, as gdb reads it). */
    public static HostFeatures hostFeatures(byte[] xstate) throws IOException {
        long xcr0 = xstate.length >= 480 ? ByteBuffer.wrap(xstate).order(ByteOrder.LITTLE_ENDIAN).getLong(464) : 0;
        return HostFeatures.newBuilder().setArch("x86_64").setXcr0(xcr0).setXstateSize(xstate.length)
                .setKernelRelease(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip()).build();
    }
}
