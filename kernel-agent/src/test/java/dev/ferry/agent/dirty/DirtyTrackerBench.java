package dev.ferry.agent.dirty;

import dev.ferry.agent.checkpoint.PageRound;
import dev.ferry.agent.checkpoint.PageRounds;
import dev.ferry.agent.ptrace.TracerThread;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Cost of one pre-copy round's tracking over a 1 GiB program (the dirtier test program, every
 * page written once) with 0, 1 and 10 MB of random pages rewritten between collects: the
 * {@link DirtyTracker#collect()}, and the {@link DirtyTracker#sent} of the round then read with
 * {@link PageRounds} (the read itself not counted); also the cost of start() and of handing
 * round 1 (all of it) to sent(). Not a unit test: run by kernel-agent/bench/dirty.sh.
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
        System.out.printf("%-10s %9s %9s %8s %16s %16s %12s%n", "tracker", "start", "sent r1", "dirty MB", "collect p50/max",
                "sent p50/max", "pages seen");
        for (String name : trackers) {
            try (TracerThread tracer = new TracerThread("bench-tracer");
                    DirtierProgram program = DirtierProgram.start(pages);
                    DirtyTracker tracker = DirtyTrackers.open(name, program.pid, tracer);
                    PageRounds rounds = new PageRounds(program.pid, program.pid)) {
                long t0 = System.nanoTime();
                tracker.start();
                double startMs = (System.nanoTime() - t0) / 1e6;
                PageRound first = rounds.first();
                long s0 = System.nanoTime();
                tracker.sent(first.batches());
                double sentFirstMs = (System.nanoTime() - s0) / 1e6;
                first = null;   // its native memory goes with the next collections
                tracker.sent(rounds.dirty(tracker.collect()).batches());   // warm-up round (JIT), not counted
                int seed = 1;
                for (int mb : new int[] {0, 1, 10}) {
                    List<Double> collects = new ArrayList<>(), sents = new ArrayList<>();
                    long seen = 0;
                    for (int run = 0; run < runs; run++) {
                        if (mb > 0) {
                            program.command("R " + seed++ + " " + mb * 256);
                        }
                        long c0 = System.nanoTime();
                        DirtyPages d = tracker.collect();
                        collects.add((System.nanoTime() - c0) / 1e6);
                        seen = program.arenaPages(d).size();
                        PageRound round = rounds.dirty(d);
                        long r0 = System.nanoTime();
                        tracker.sent(round.batches());
                        sents.add((System.nanoTime() - r0) / 1e6);
                    }
                    Collections.sort(collects);
                    Collections.sort(sents);
                    System.out.printf("%-10s %9.1f %9.1f %8d %7.2f / %6.2f %7.2f / %6.2f %12d%n", name, startMs, sentFirstMs, mb,
                            collects.get(runs / 2), collects.get(runs - 1), sents.get(runs / 2), sents.get(runs - 1), seen);
                }
            }
        }
    }
}
