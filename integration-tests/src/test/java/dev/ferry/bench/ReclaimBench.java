package dev.ferry.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Owner reclaim: the time from a keystroke in a host's owner terminal to the last of its guests
 * gone from it (the guest's process no longer exists: its CPU and memory are released), with
 * GUESTS guests of MIB MiB each (a program that touches its memory, then prints a line every
 * 100 ms). Per guest, how long it was frozen (the migration's freeze, from the host's log).
 * Runs outside the namespaces, on a vcluster of 3 hosts whose owners are idle: guests are
 * started on h2 from h1 ({@code run ... @ h2}), and the keys are typed into h2's terminal.
 *
 * The first {@code --warmup} runs are not counted (the managers' JIT compiles the migration path).
 *
 * <p>{@code java -cp CP dev.ferry.bench.ReclaimBench --vcluster bin/vcluster --cluster NAME
 * --guests 4 --mib 256 --runs 5 --warmup 1}
 */
public final class ReclaimBench {
  private static final Map<String, String> DEFAULTS = Map.of(
      "vcluster", "", "cluster", "", "guests", "1", "mib", "256", "runs", "5", "warmup", "1",
      "python", "/usr/bin/python3");
  private static final String GUEST = String.join("\n",
      "import sys, time",
      "memory = bytearray(int(sys.argv[1]) << 20)",
      "for i in range(0, len(memory), 4096): memory[i] = 1",
      "print('ready', flush=True)",
      "n = 0",
      "while True:",
      "    n += 1; print('tick', n, flush=True); time.sleep(0.1)");
  private static final long LIMIT_MS = 120_000;
  private static final long KEY_PERIOD_NANOS = 1_000_000_000L;
  private static final Pattern MOVED = Pattern.compile(
      "reclaim: (\\S+) \\(python3\\) moved to (\\S+) because the owner is active: frozen ([0-9.]+) ms");
  /** A guest frozen in place first, then moved when a host volunteered: frozen from then until moved. */
  private static final Pattern MOVED_LATER = Pattern.compile(
      "reclaim: (\\S+) \\(python3\\) moved to (\\S+), a host that volunteered, after ([0-9.]+) s frozen here"
          + " \\(frozen ([0-9.]+) ms for the move\\)");

  private final VClusterShell shell;
  private final BenchArgs args;

  private ReclaimBench(BenchArgs args) {
    this.args = args;
    this.shell = new VClusterShell(args.path("vcluster"), args.string("cluster"));
  }

  public static void main(String[] argv) throws Exception {
    new ReclaimBench(BenchArgs.parse(argv, DEFAULTS)).measure();
  }

  private void measure() throws IOException, InterruptedException {
    int guests = args.integer("guests");
    int mib = args.integer("mib");
    String label = guests + " guest" + (guests == 1 ? "" : "s") + " of " + mib + " MiB";
    Samples last = new Samples("keystroke -> last guest gone, " + label);
    Samples first = new Samples("keystroke -> first guest gone, " + label);
    Samples frozen = new Samples("frozen per guest (migration freeze), " + label);
    System.out.println(Samples.header());
    int warmup = args.integer("warmup");
    for (int run = 1 - warmup; run <= args.integer("runs"); run++) {
      Result r = once(run + warmup, guests, mib);
      if (run < 1) {
        System.out.printf(Locale.ROOT, "warm-up: last gone %.0f ms, frozen %s ms%n", r.lastGoneNanos() / 1e6,
            r.freezeMillis().values());
        continue;
      }
      last.add(r.lastGoneNanos());
      first.add(r.firstGoneNanos());
      r.freezeMillis().values().forEach(ms -> frozen.add(Math.round(ms * 1e6)));
      System.out.printf(Locale.ROOT, "run %d: last gone %.0f ms, first gone %.0f ms, frozen %s ms, to %s%n", run,
          r.lastGoneNanos() / 1e6, r.firstGoneNanos() / 1e6, r.freezeMillis().values(), r.destinations());
    }
    System.out.println(last.summary());
    System.out.println(first.summary());
    System.out.println(frozen.summary());
  }

  private record Result(long firstGoneNanos, long lastGoneNanos, Map<String, Double> freezeMillis, List<String> destinations) {}

  private Result once(int run, int guests, int mib) throws IOException, InterruptedException {
    awaitOwnerIdle("h2");
    List<Process> runs = new ArrayList<>();
    List<File> files = new ArrayList<>();
    Map<String, Long> hostPids = new LinkedHashMap<>();
    try {
      List<String> tokens = new ArrayList<>();
      for (int g = 0; g < guests; g++) {
        String token = String.format("%d.%06d", 1000 + run * 10 + g, ThreadLocalRandom.current().nextInt(1_000_000));
        tokens.add(token);
        File out = File.createTempFile("reclaim-bench", ".out");
        File err = File.createTempFile("reclaim-bench", ".err");
        files.add(out);
        files.add(err);
        runs.add(shell.start("h1", List.of("run", args.string("python"), "-c", GUEST, Integer.toString(mib), token, "@", "h2"), out, err));
      }
      for (int g = 0; g < guests; g++) {
        awaitReady(files.get(2 * g), files.get(2 * g + 1));
      }
      for (JsonObject lh : shell.json("h1")) {
        for (String token : tokens) {
          if (lh.toString().contains(token) && "h2".equals(lh.get("host").getAsString())) {
            hostPids.put(lh.get("id").getAsString(), programHostPid(lh));
          }
        }
      }
      if (hostPids.size() != guests) {
        throw new IOException("expected " + guests + " guests on h2, found " + hostPids);
      }
      long logStart = Files.size(shell.log("h2"));
      long typed = System.nanoTime();
      shell.type("h2", "ls", "Enter");
      long lastKey = typed;
      long firstGone = -1;
      List<Long> left = new ArrayList<>(hostPids.values());
      while (!left.isEmpty()) {
        // The owner who came back goes on typing: a guest whose move failed waits frozen and is
        // retried, rather than resuming on h2 once the owner looks idle.
        if (System.nanoTime() - lastKey > KEY_PERIOD_NANOS) {
          shell.type("h2", "ls", "Enter");
          lastKey = System.nanoTime();
        }
        left.removeIf(pid -> !Files.exists(Path.of("/proc", Long.toString(pid))));
        if (firstGone < 0 && left.size() < guests) {
          firstGone = System.nanoTime() - typed;
        }
        if (System.nanoTime() - typed > LIMIT_MS * 1_000_000L) {
          throw new IOException("guests " + left + " still on h2 after " + LIMIT_MS + " ms; h2's log since the keystroke:\n"
              + tail(shell.log("h2"), logStart));
        }
        Thread.sleep(1);
      }
      long lastGone = System.nanoTime() - typed;
      Map<String, Double> freezes = freezes(logStart, hostPids.keySet());
      for (String line : tail(shell.log("h2"), logStart).split("\n")) {
        if (line.contains("reclaim: froze") || line.contains("rolled back")) {
          System.out.println("  note: " + line);
        }
      }
      return new Result(firstGone, lastGone, freezes, destinations(hostPids.keySet()));
    } finally {
      for (String id : hostPids.keySet()) {
        try {
          shell.exec("h1", "lhosts", "kill", id);
        } catch (IOException e) {
          System.err.println("could not kill " + id + ": " + e.getMessage());
        }
      }
      for (Process p : runs) {
        if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      files.forEach(File::delete);
    }
  }

  private static long programHostPid(JsonObject lh) {
    for (JsonElement p : lh.getAsJsonArray("processes")) {
      if (p.getAsJsonObject().get("pid").getAsLong() == 2) {
        return p.getAsJsonObject().get("host_pid").getAsLong();
      }
    }
    throw new IllegalStateException("no program process in " + lh);
  }

  private void awaitReady(File out, File err) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + LIMIT_MS * 1_000_000L;
    while (!Files.readString(out.toPath()).startsWith("ready\n")) {
      if (System.nanoTime() > deadline) {
        throw new IOException("a guest did not get ready: " + Files.readString(err.toPath()));
      }
      Thread.sleep(20);
    }
  }

  /** The migration freeze of each guest, from h2's log lines written after {@code from}. */
  private Map<String, Double> freezes(long from, java.util.Collection<String> ids) throws IOException, InterruptedException {
    Map<String, Double> found = new LinkedHashMap<>();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (found.size() < ids.size() && System.nanoTime() < deadline) {
      String log = tail(shell.log("h2"), from);
      Matcher m = MOVED.matcher(log);
      while (m.find()) {
        if (ids.contains(m.group(1))) {
          found.put(m.group(1), Double.parseDouble(m.group(3)));
        }
      }
      Matcher later = MOVED_LATER.matcher(log);
      while (later.find()) {
        if (ids.contains(later.group(1))) {
          found.put(later.group(1), Double.parseDouble(later.group(3)) * 1000);
        }
      }
      Thread.sleep(50);
    }
    if (found.size() < ids.size()) {
      throw new IOException("h2's log does not say how every guest left (found " + found.keySet() + " of " + ids
          + "): was one frozen in place or killed?\n" + tail(shell.log("h2"), from));
    }
    return found;
  }

  private List<String> destinations(java.util.Collection<String> ids) throws IOException, InterruptedException {
    List<String> where = new ArrayList<>();
    for (JsonObject lh : shell.json("h1")) {
      if (ids.contains(lh.get("id").getAsString())) {
        where.add(lh.get("host").getAsString());
      }
    }
    return where;
  }

  private void awaitOwnerIdle(String host) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + LIMIT_MS * 1_000_000L;
    while (true) {
      for (JsonObject h : shell.json("h1", "--hosts")) {
        if (h.get("host").getAsString().equals(host) && !h.get("owner_active").getAsBoolean()) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(host + "'s owner never became idle");
      }
      Thread.sleep(200);
    }
  }

  private static String tail(Path file, long from) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      byte[] b = new byte[(int) Math.max(0, f.length() - from)];
      f.seek(from);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    }
  }
}
