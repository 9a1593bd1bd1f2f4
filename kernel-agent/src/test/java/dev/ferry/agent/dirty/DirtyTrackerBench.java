package dev.ferry.agent.dirty;

import dev.ferry.agent.ptrace.TracerThread;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Cost of one {@link DirtyTracker#collect()} over a 1 GiB program (the dirtier test program,
 * every page written once) with 0, 1 and 10 MB of random pages rewritten between collects;
 * also the cost of start(). Not a unit test: run by kernel-agent/bench/dirty.sh.
 *
 * <p>Arguments: [runs (7)] [MiB tracked (1024)] [trackers (every one the probe accepts)].
 */
public final class DirtyTrackerBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        List<String> trackers = new ArrayList<>();
        if (args.length > 2) {
            trackers.addAll(List.of(args[2].split(",")));
        } else {
            for (DirtyTrackers.Probe p : DirtyTrackers.probeAll()) {
                System.out.printf("probe %-10s %s%n", p.tracker(), p.works() ? "works" : "no: " + p.detail());
                if (p.works()) {
                    trackers.add(p.tracker());
                }
            }
        }
        int pages = mib * 256;
        System.out.printf("%d MiB program, %d runs each; times in ms (p50 / worst)%n", mib, runs);
        System.out.printf("%-10s %9s %8s %16s %12s%n", "tracker", "start", "dirty MB", "collect p50/max", "pages seen");
        for (String name : trackers) {
            try (TracerThread tracer = new TracerThread("bench-tracer");
                    DirtierProgram program = DirtierProgram.start(pages);
                    DirtyTracker tracker = DirtyTrackers.open(name, program.pid, tracer)) {
                long t0 = System.nanoTime();
                tracker.start();
                double startMs = (System.nanoTime() - t0) / 1e6;
                tracker.collect();   // warm-up round (JIT), not counted
                int seed = 1;
                for (int mb : new int[] {0, 1, 10}) {
                    List<Double> times = new ArrayList<>();
                    long seen = 0;
                    for (int run = 0; run < runs; run++) {
                        if (mb > 0) {
                            program.command("R " + seed++ + " " + mb * 256);
                        }
                        long c0 = System.nanoTime();
                        DirtyPages d = tracker.collect();
                        times.add((System.nanoTime() - c0) / 1e6);
                        seen = program.arenaPages(d).size();
                    }
                    Collections.sort(times);
                    System.out.printf("%-10s %9.1f %8d %7.2f / %6.2f %12d%n", name, startMs, mb,
                            times.get(times.size() / 2), times.get(times.size() - 1), seen);
                }
            }
        }
    }
}
