package dev.ferry.agent.checkpoint;

import com.google.protobuf.ByteString;
import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.ptrace.Registers;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Captures a logical host, every process of it (besides its init) with all their threads, into
 * a {@link CapturedLh}.
 *
 * <p>Order, so that a refusal or failure never harms the program: (1) everything that can be
 * checked from /proc without touching the processes (the tree, tracers, files, mappings) is
 * checked and refused as one list of blockers; (2) the cgroup is frozen, every thread of every
 * process seized and interrupted on a dedicated tracer thread (frozen, no process or thread can
 * start or end meanwhile; zombies are read, not seized), the cgroup thawed (the threads stay in
 * their ptrace stops; with the v1 freezer the stops only arrive now); (3) each process' state
 * ({@link ProcessStateReader}) and pages, the LH's own pipes with their unread bytes, the unread
 * stdin; (4) the processes are killed while stopped, left to run on, or left frozen without a
 * tracer ({@link AfterCapture}). On any failure every thread's registers are put back and they
 * are detached and thawed.
 */
public final class ProcessCapture {
    /** Version of the LhImage metadata (and of the image files). */
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
     * Refuses, without touching the program, what cannot be moved live (a tracer, sockets and
     * other files, memory kinds, and yet: more than one process): pre-copy asks before it sends
     * anything. The capture at the freeze checks again.
     */
    public void check(String lhId, LhCgroup cgroup) throws CaptureRefusedException, CaptureException {
        singleProcess(lhId, inspect(lhId, cgroup));
    }

    /** Pre-copy (dirty tracking, rounds, the rebuild's side) knows one process without shared memory yet. */
    private static void singleProcess(String lhId, Inspected it) throws CaptureRefusedException {
        if (!it.shared().objects().isEmpty()) {
            LhProcesses.Member first = it.members().get(0);
            throw new CaptureRefusedException(List.of("cannot migrate " + lhId + "." + first.pid() + " (" + first.name()
                    + "): it has " + it.shared().objects().size() + " shared memory object(s) (MAP_SHARED anonymous memory or memfds),"
                    + " which can be checkpointed, not yet moved live"));
        }
        if (it.members().size() > 1) {
            LhProcesses.Member first = it.members().get(0);
            StringBuilder all = new StringBuilder();
            it.members().forEach(m -> all.append(all.length() == 0 ? "" : ", ").append(m.pid()).append(' ').append(m.name()));
            throw new CaptureRefusedException(List.of("cannot migrate " + lhId + "." + first.pid() + " (" + first.name()
                    + "): its logical host has " + it.members().size() + " processes (" + all
                    + "); logical hosts of several processes can be checkpointed, not yet moved live"));
        }
    }

    /** The LH's processes (parents first), each live one's fds by pid, and the LH's program. */
    private record Inspected(List<LhProcesses.Member> members, Map<Integer, List<FileDescriptor>> fds, SharedObjects shared) {
        List<LhProcesses.Member> live() {
            return members.stream().filter(m -> !m.zombie()).toList();
        }

        Map<Integer, Integer> hostPids() {
            Map<Integer, Integer> out = new HashMap<>();
            members.forEach(m -> out.put(m.pid(), m.hostPid()));
            return out;
        }
    }

    /**
     * Everything that can be judged from /proc: the tree, each process' status (tracer, main
     * thread), the files of all of them together, each one's mappings. Refused as one list.
     */
    private Inspected inspect(String lhId, LhCgroup cgroup) throws CaptureRefusedException, CaptureException {
        return inspect(lhId, cgroup, false);
    }

    /** {@code seized}: the processes are stopped under this capture's tracer (so a tracer is no blocker). */
    private Inspected inspect(String lhId, LhCgroup cgroup, boolean seized) throws CaptureRefusedException, CaptureException {
        try {
            List<LhProcesses.Member> members = LhProcesses.find(lhId, cgroup, proc);
            List<String> blockers = new ArrayList<>(LhProcesses.blockers(members, lhId));
            for (LhProcesses.Member m : members) {
                if (m.zombie()) {
                    continue;
                }
                Path procPid = Path.of("/proc", Integer.toString(m.hostPid()));
                String who = "cannot migrate " + lhId + "." + m.pid() + " (" + m.name() + ")";
                ProcessStatus status = ProcessStatus.parse(Files.readString(procPid.resolve("status")));
                if (status.state() == 'Z') {
                    blockers.add(who + ": its main thread has ended while other threads run on (a zombie thread group leader cannot be rebuilt)");
                }
                if (status.tracerPid() != 0 && !seized) {
                    blockers.add(who + ": it is already traced by process " + status.tracerPid());
                }
                if (status.state() == 'T' && !seized) {
                    // a job-control stop cannot be carried: the rebuilt process would run on
                    blockers.add(who + ": it is stopped by a signal (SIGSTOP or SIGTSTP); continue it first (kill -CONT, or fg)");
                }
            }
            SharedObjects shared = new SharedObjects();
            Map<Integer, List<FileDescriptor>> fds = LhFiles.inspect(members, lhId, blockers, shared);
            for (LhProcesses.Member m : members) {
                if (!m.zombie()) {
                    String maps = Files.readString(Path.of("/proc", Integer.toString(m.hostPid()), "maps"));   // smaps walks page tables
                    shared.tag(m.hostPid(), Mappings.of(VmArea.parseSmaps(maps),
                            "cannot migrate " + lhId + "." + m.pid() + " (" + m.name() + ")", blockers));
                }
            }
            if (!blockers.isEmpty()) {
                throw new CaptureRefusedException(blockers);
            }
            return new Inspected(members, fds, shared);
        } catch (IOException e) {
            throw new CaptureException("inspecting " + lhId + ": " + e.getMessage(), e);
        }
    }

    /** Called with the finished metadata while the program is still stopped. */
    private interface Commit {
        void accept(LhImage image) throws IOException;
    }

    private LhImage capture(String lhId, LhCgroup cgroup, AfterCapture after, PageSink sink, Commit commit)
            throws CaptureRefusedException, CaptureException {
        timer.restart();
        Inspected first = inspect(lhId, cgroup);
        if (flags != null) {
            singleProcess(lhId, first);
        }
        timer.mark("inspect");
        try (TracerThread tracer = new TracerThread("ferry-capture-" + lhId)) {
            return tracer.call(() -> captureStopped(lhId, cgroup, after, sink, commit));
        } catch (CaptureException | CaptureRefusedException e) {
            throw e;
        } catch (Exception e) {
            String why = first.live().stream().allMatch(m -> Files.exists(Path.of("/proc", Integer.toString(m.hostPid()))))
                    ? e.getMessage() : "a process ended during the capture";   // then the cgroup may be gone too
            throw new CaptureException("capturing " + lhId + ": " + why, e);
        }
    }

    /** Every live process of the LH, seized thread by thread, with each thread's registers as stopped. */
    private record Seized(LhProcesses.Member member, TracedThreads threads, List<Registers> raw) {}

    private LhImage captureStopped(String lhId, LhCgroup cgroup, AfterCapture after, PageSink sink, Commit commit) throws Exception {
        cgroup.freeze();
        timer.mark("freeze");
        List<Seized> seized = new ArrayList<>();
        boolean done = false;
        boolean refreezing = false;
        boolean stopped = false;
        try {
            // frozen: no process or thread can start or end meanwhile
            List<LhProcesses.Member> members = LhProcesses.find(lhId, cgroup, proc);
            for (LhProcesses.Member m : members) {
                if (!m.zombie()) {
                    seized.add(new Seized(m, TracedThreads.seizeAll(m.hostPid()), new ArrayList<>()));
                }
            }
            cgroup.thaw();          // the threads stay in their ptrace stops
            for (Seized s : seized) {
                s.threads().awaitStops();
                for (Tracee t : s.threads().all()) {
                    s.raw().add(t.registers());
                }
                if (!new HashSet<>(TracedThreads.tids(s.member().hostPid())).equals(
                        new HashSet<>(s.threads().all().stream().map(Tracee::pid).toList()))) {
                    throw new CaptureException("capturing " + lhId + ": a thread of " + s.member().pid()
                            + " started or ended during the capture", null);
                }
            }
            stopped = true;
            timer.mark("seize");
            // read again now that everything is stopped: files, offsets and mappings changed while it ran
            Inspected it = inspect(lhId, cgroup, true);
            if (it.members().size() != members.size()) {
                throw new CaptureException("capturing " + lhId + ": a process started or ended during the capture", null);
            }
            List<String> blockers = new ArrayList<>();
            Map<Integer, List<Mapping.Builder>> mappings = new HashMap<>();
            for (Seized s : seized) {
                LhProcesses.Member m = s.member();
                mappings.put(m.pid(), Mappings.of(areasWithFlags(Path.of("/proc", Integer.toString(m.hostPid()))),
                        "cannot migrate " + lhId + "." + m.pid() + " (" + m.name() + ")", blockers));
                it.shared().tag(m.hostPid(), mappings.get(m.pid()));
            }
            if (!blockers.isEmpty()) {
                throw new CaptureRefusedException(blockers);
            }
            timer.mark("inspect again, stopped");
            LhImage captured = image(lhId, it, seized, mappings, sink);
            commit.accept(captured);
            switch (after) {
                case KILL -> seized.forEach(s -> s.threads().kill());   // ends on its own; see Tracee.kill
                case LEAVE_RUNNING -> {
                    for (Seized s : seized) {
                        putBack(s);
                        s.threads().detach();
                    }
                }
                case FREEZE -> {
                    for (Seized s : seized) {
                        putBack(s);
                    }
                    stopped = false;        // already put back: a failure below must not touch a detached tracee
                    refreezing = true;
                    detachFrozen(seized, cgroup);
                }
            }
            timer.mark(switch (after) { case KILL -> "kill"; case LEAVE_RUNNING -> "detach"; case FREEZE -> "freeze, detach"; });
            done = true;
            return captured;
        } finally {
            if (!done) {
                try {
                    if (stopped) {
                        for (Seized s : seized) {
                            putBack(s);
                        }
                    }
                } finally {
                    seized.forEach(s -> s.threads().detach());
                    if (refreezing || cgroup.frozen()) {   // a freeze that timed out may have left it half-frozen
                        cgroup.thaw();
                    }
                }
            }
        }
    }

    /** The LH's image: every process (parents first), its pipes and shared memory, the unread stdin. */
    private LhImage image(String lhId, Inspected it, List<Seized> seized, Map<Integer, List<Mapping.Builder>> mappings,
                          PageSink sink) throws Exception {
        Map<Integer, Seized> byPid = new HashMap<>();
        seized.forEach(s -> byPid.put(s.member().pid(), s));
        ProcessStateReader reader = new ProcessStateReader(timer);
        LhImage.Builder image = LhImage.newBuilder().setFormatVersion(FORMAT_VERSION).setLhId(lhId)
                .setCapturedUnixMillis(System.currentTimeMillis());
        for (LhProcesses.Member m : it.members()) {
            Seized s = byPid.get(m.pid());
            image.addProcesses(m.zombie() ? ProcessStateReader.zombie(m)
                    : reader.read(m, s.threads(), s.raw(), it.fds().get(m.pid()), mappings.get(m.pid()), sink));
        }
        if (sink != null) {
            it.shared().read(sink);
        }
        image.addAllSharedMemory(it.shared().objects()).setHost(hostFeatures(seized.get(0).threads().leader().xstate()))
                .setPendingStdin(ByteString.copyFrom(LhFiles.pendingStdin(it.fds(), it.hostPids())))
                .addAllPipes(LhFiles.pipes(it.fds(), it.hostPids()));
        timer.mark("metadata");
        return image.build();
    }

    /** Every thread's registers as it was stopped (injected calls put them back already; this is the safety net). */
    private static void putBack(Seized s) throws Exception {
        List<Tracee> all = s.threads().all();
        for (int i = 0; i < s.raw().size(); i++) {
            all.get(i).setRegisters(s.raw().get(i));
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
     * Leaves the stopped tracees frozen and untraced. A task in a ptrace stop counts as frozen
     * for both freezers, so the cgroup freezes around it; after PTRACE_DETACH the task leaves
     * the ptrace stop only to enter the freezer before returning to user mode (cgroup2: the
     * freezer trap in the signal path; v1: it is already in TASK_FROZEN, and the detach succeeds
     * on it — measured on Linux 6.18; on thaw it resumes where it was stopped). The second
     * freeze only waits until the kernel reports the cgroup frozen again without the tracer.
     */
    private static void detachFrozen(List<Seized> seized, LhCgroup cgroup) throws IOException {
        cgroup.freeze();
        seized.forEach(s -> s.threads().detach());
        cgroup.freeze();
    }

    /** What a rebuilding host must match; ptrace puts XCR0 at offset 464 of NT_X86_XSTATE (the fxsave area's software bytes, as gdb reads it). */
    public static HostFeatures hostFeatures(byte[] xstate) throws IOException {
        long xcr0 = xstate.length >= 480 ? ByteBuffer.wrap(xstate).order(ByteOrder.LITTLE_ENDIAN).getLong(464) : 0;
        return HostFeatures.newBuilder().setArch("x86_64").setXcr0(xcr0).setXstateSize(xstate.length)
                .setKernelRelease(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip()).build();
    }
}
