package dev.ferry.agent.rebuild;

import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.checkpoint.CapturedLh;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.ptrace.RemoteMemory;
import dev.ferry.agent.ptrace.TracedThreads;
import dev.ferry.agent.ptrace.Tracee;
import dev.ferry.agent.ptrace.TracerThread;
import dev.ferry.proto.v1.HostFeatures;
import dev.ferry.proto.v1.LhImage;
import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.PageBatch;
import java.util.List;

/**
 * The destination's half of pre-copy: a restore stub seized at once and filled round by round
 * while the program still runs at the source, so that allocating and writing its memory (the
 * slow part on a fresh host) happens before the freeze. Then {@link #finish} applies the final
 * mappings' protections and the kernel state, and lets the process go frozen.
 *
 * <pre>
 *   begin(stub)           seize (PTRACE_O_EXITKILL), check the CPU state layout, drop the stub's rseq
 *   round(1, mappings)    empty the stub, move the vdso, map round 1's layout
 *   pages(batch)...       write pages (later batches override earlier ones)
 *   round(n, mappings)    adjust the layout, keeping pages where nothing changed
 *   finish(image, cgroup) final protections, kernel state, registers; detached into the frozen cgroup
 * </pre>
 * Every step runs on one tracer thread (ptrace binds a tracee to its thread). Until
 * {@link #finish} returns, {@link #close} kills the stub: a failed or abandoned transfer leaves
 * nothing behind, and the stub never runs an instruction of the program.
 */
public final class PrecopyRebuild implements AutoCloseable {
    private final TracerThread tracer;
    private final int hostPid;
    private final String lhId;
    private Tracee stub;
    private TracedThreads threads;   // the stub, then the threads made at the finish
    private RemoteMemory memory;
    private AddressSpaceBuilder space;
    private LiveAddressSpace live;
    private List<dev.ferry.agent.checkpoint.VmArea> stubAreas;
    private int round;
    private boolean finished;

    private PrecopyRebuild(int hostPid, String lhId) {
        this.hostPid = hostPid;
        this.lhId = lhId;
        this.tracer = new TracerThread("ferry-precopy-" + lhId);
    }

    /** Seizes the stopped restore stub {@code stubHostPid} and checks it can take a program captured on {@code source}. */
    public static PrecopyRebuild begin(int stubHostPid, String lhId, HostFeatures source) throws RebuildException {
        PrecopyRebuild r = new PrecopyRebuild(stubHostPid, lhId);
        try {
            r.tracer.call(() -> {
                r.stub = Tracee.seize(stubHostPid, true);
                r.threads = new TracedThreads(r.stub);
                r.memory = new RemoteMemory(stubHostPid);
                r.stub.awaitStop();
                ProcessRebuild.StubControl control = ProcessRebuild.takeOver(r.stub, stubHostPid, source, r.memory);
                r.space = new AddressSpaceBuilder(control.inject(), r.memory, PhaseTimer.none());
                r.live = new LiveAddressSpace(r.space, r.memory);
                r.stubAreas = control.areas();
                return null;
            });
            return r;
        } catch (Exception e) {
            r.close();
            throw failure("preparing the new process", lhId, e);
        }
    }

    /** Starts round {@code number} (1, 2, ...): the layout becomes {@code mappings}. */
    public void round(int number, List<Mapping> mappings) throws RebuildException {
        step("round " + number, () -> {
            if (number != round + 1) {
                throw new RebuildException("round " + number + " follows round " + round);
            }
            if (round == 0) {
                live.first(stubAreas, mappings);
            } else {
                live.reconcile(mappings);
            }
            round = number;
        });
    }

    /** Pages of the current round. */
    public void pages(PageBatch batch) throws RebuildException {
        pages(List.of(batch));
    }

    /** Pages of the current round, several batches in one step on the tracer thread. */
    public void pages(List<PageBatch> batches) throws RebuildException {
        step("writing pages", () -> {
            if (round == 0) {
                throw new RebuildException("pages before the first round");
            }
            for (PageBatch b : batches) {
                live.write(b);
            }
        });
    }

    /**
     * Makes the layout the final one ({@code image}'s mappings): called before the last pages,
     * which then belong to the final state.
     */
    public void finalLayout(LhImage image) throws RebuildException {
        round(round + 1, image.getProcesses(0).getMappingsList());
    }

    /**
     * All pages are in: gives the process its final protections and the kernel state of
     * {@code image} and lets it go frozen in {@code freezeIn} (or running when null).
     */
    public void finish(LhImage image, LhCgroup freezeIn) throws RebuildException {
        ProcessRebuild.verify(new CapturedLh(image, List.of()), null);
        step("finishing", () -> {
            live.finalProtections();
            ProcessRebuild.finishState(threads, space.inject(), memory, space, hostPid, image.getProcesses(0), image.getPipesList(),
                    freezeIn, PhaseTimer.none());
            finished = true;
        });
        tracer.close();
    }

    private interface Step {
        void run() throws Exception;
    }

    private void step(String what, Step step) throws RebuildException {
        if (finished) {
            throw new IllegalStateException("the rebuild of " + lhId + " is finished");
        }
        try {
            tracer.call(() -> {
                step.run();
                return null;
            });
        } catch (Exception e) {
            throw failure(what, lhId, e);
        }
    }

    private static RebuildException failure(String what, String lhId, Exception e) {
        if (e instanceof RebuildException re) {
            return re;
        }
        return new RebuildException("rebuilding " + lhId + " (" + what + "): " + e.getMessage(), e);
    }

    /** Abandons an unfinished rebuild: the stub is killed (PTRACE_O_EXITKILL does it too if this thread dies). */
    @Override
    public void close() {
        if (!finished) {
            try {
                tracer.call(() -> {
                    if (threads != null) {
                        threads.killAndReap();
                    }
                    return null;
                });
            } catch (Exception e) {
                // the stub is gone already, or the tracer thread's end kills it
            }
        }
        tracer.close();
        if (memory != null) {
            try {
                memory.close();
            } catch (java.io.IOException e) {
                // nothing left to release
            }
        }
    }
}
