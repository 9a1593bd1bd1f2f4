package dev.ferry.agent.bench;

import dev.ferry.agent.CgroupTree;
import dev.ferry.agent.LaunchSpec;
import dev.ferry.agent.LaunchedLh;
import dev.ferry.agent.LhLauncher;
import dev.ferry.agent.checkpoint.AfterCapture;
import dev.ferry.agent.checkpoint.PhaseTimer;
import dev.ferry.agent.checkpoint.ProcessCapture;
import com.sun.jna.Memory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Checkpoint/restart benchmark (not a unit test; run by kernel-agent/bench/checkpoint.sh):
 * the ticker test program touches N MiB, is checkpointed to an image directory (killed), and
 * restarted from it; the restarted program must verify its memory ("sum ok"). Sizes 64 MiB and
 * 1 GiB, images on tmpfs and on a disk directory with fsync, RUNS runs each; next to it, in the
 * same JVM, a plain copy of the same amount of memory into fresh and into touched memory.
 *
 * <p>Arguments: [runs (3)] [disk dir (/var/tmp), or "none" for tmpfs only] [sizes in MiB (64,1024)].
 */
public final class CheckpointBench {
    private static final int SIGUSR1 = 10;

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path disk = Path.of(args.length > 1 ? args[1] : "/var/tmp");
        String[] sizes = (args.length > 2 ? args[2] : "64,1024").split(",");
        Path home = Path.of(System.getProperty("ferry.kernelAgent", "kernel-agent")).toAbsolutePath();
        Path ticker = home.resolve("target/native-test/ticker");
        Path init = home.resolve("target/native/ferry-init");
        Path work = Files.createTempDirectory(Path.of("/dev/shm"), "ferry-bench-");
        CgroupTree tree = CgroupTree.probe("ferry-bench-" + ProcessHandle.current().pid());
        LhLauncher launcher = new LhLauncher(init, tree, work.resolve("state"));
        System.out.printf("heap max %d MiB, %d cpus, kernel %s%n", Runtime.getRuntime().maxMemory() >> 20,
                Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        try {
            for (String s : sizes) {
                int mib = Integer.parseInt(s.strip());
                plainCopy(mib, runs);
                bench(launcher, ticker, mib, runs, work.resolve("img"), false, "tmpfs");
                if (!disk.toString().equals("none")) {
                    bench(launcher, ticker, mib, runs, Files.createTempDirectory(disk, "ferry-bench-"), true, disk + " +fsync");
                }
            }
        } finally {
            tree.removeEmpty();
            delete(work);
        }
    }

    /** The physical limit: copying the same amount of memory, into fresh and into already-touched memory. */
    private static void plainCopy(int mib, int runs) {
        long bytes = (long) mib << 20;
        Memory src = new Memory(bytes);
        ByteBuffer from = src.getByteBuffer(0, bytes);   // fine up to 2 GiB
        for (int i = 0; i < bytes; i += 4096) {
            from.put(i, (byte) 1);
        }
        List<Double> fresh = new ArrayList<>(), touched = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            Memory dst = new Memory(bytes);
            ByteBuffer to = dst.getByteBuffer(0, bytes);
            long t0 = System.nanoTime();
            to.put(0, from, 0, (int) bytes);
            long t1 = System.nanoTime();
            to.put(0, from, 0, (int) bytes);
            long t2 = System.nanoTime();
            fresh.add((t1 - t0) / 1e6);
            touched.add((t2 - t1) / 1e6);
            dst.close();
        }
        src.close();
        System.out.printf("%5d MiB plain copy: into fresh memory %s | into touched memory %s%n", mib, stats(fresh, mib),
                stats(touched, mib));
    }

    private static void bench(LhLauncher launcher, Path ticker, int mib, int runs, Path dir, boolean fsync, String where)
            throws Exception {
        List<Double> cp = new ArrayList<>(), rs = new ArrayList<>();
        Map<String, List<Double>> phases = new TreeMap<>();
        try {
            for (int r = 0; r < runs; r++) {
                String id = "bench-" + mib + "-" + r + "-" + (fsync ? "d" : "t");
                Path files = Files.createTempDirectory("ferry-bench-files-");
                LaunchSpec spec = new LaunchSpec(id, List.of(ticker.toString(), Integer.toString(mib),
                        files.resolve("o").toString(), files.resolve("a").toString()), List.of("PATH=/usr/bin:/bin"), "/tmp",
                        022, 0, 0, new int[0], List.of(), 0);
                LaunchedLh original = launcher.launch(spec);
                LaunchedLh restored = null;
                try {
                    BufferedReader out = new BufferedReader(new InputStreamReader(original.stdout(), StandardCharsets.UTF_8));
                    out.readLine();   // "tick 1": the memory is filled
                    PhaseTimer ct = new PhaseTimer();
                    long t0 = System.nanoTime();
                    new ProcessCapture(ct).captureTo(id, original.cgroup(), AfterCapture.KILL, dir, fsync);
                    long t1 = System.nanoTime();
                    original.stdout().transferTo(java.io.OutputStream.nullOutputStream());
                    original.exit().get(30, TimeUnit.SECONDS);
                    PhaseTimer rt = new PhaseTimer();
                    long t2 = System.nanoTime();
                    restored = launcher.restore(id, dir, rt);
                    long t3 = System.nanoTime();
                    restored.signalGroup(SIGUSR1);
                    String rest = new String(restored.stdout().readAllBytes(), StandardCharsets.UTF_8);
                    if (!rest.contains("sum ok") || restored.exit().get(30, TimeUnit.SECONDS).shellCode() != 0) {
                        throw new IllegalStateException("the restarted program failed: " + rest);
                    }
                    cp.add((t1 - t0) / 1e6);
                    rs.add((t3 - t2) / 1e6);
                    ct.nanos().forEach((k, v) -> phases.computeIfAbsent("checkpoint: " + k, x -> new ArrayList<>()).add(v / 1e6));
                    rt.nanos().forEach((k, v) -> phases.computeIfAbsent("restart:    " + k, x -> new ArrayList<>()).add(v / 1e6));
                } finally {
                    for (LaunchedLh lh : new LaunchedLh[] {original, restored}) {
                        if (lh != null) {
                            lh.cgroup().killAll();
                            lh.exit().get(30, TimeUnit.SECONDS);
                        }
                    }
                    delete(files);
                }
            }
        } finally {
            delete(dir);
        }
        List<Double> both = new ArrayList<>();
        for (int i = 0; i < cp.size(); i++) {
            both.add(cp.get(i) + rs.get(i));
        }
        System.out.printf("%5d MiB %-22s checkpoint %s | restart %s | both %s%n", mib, where, stats(cp, mib), stats(rs, mib),
                stats(both, mib));
        System.out.printf("        runs in order (checkpoint+restart ms): %s%n", String.join("  ", java.util.stream.IntStream
                .range(0, cp.size()).mapToObj(i -> String.format("%.0f+%.0f", cp.get(i), rs.get(i))).toList()));
        phases.forEach((k, v) -> System.out.printf("        %-40s p50 %8.1f ms  worst %8.1f ms%n", k, p50(v), worst(v)));
    }

    private static String stats(List<Double> ms, int mib) {
        double p50 = p50(ms);
        return String.format("p50 %7.1f ms (%6.0f MiB/s) worst %7.1f ms", p50, mib / (p50 / 1000), worst(ms));
    }

    private static double p50(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(Comparator.naturalOrder());
        return s.get(s.size() / 2);
    }

    private static double worst(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    private static void delete(Path p) throws java.io.IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
