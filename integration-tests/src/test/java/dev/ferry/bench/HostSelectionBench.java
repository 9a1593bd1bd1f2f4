package dev.ferry.bench;

import dev.ferry.lhcache.ClusterKey;
import dev.ferry.lhcache.GroupChannel;
import dev.ferry.lhcache.GroupConfig;
import dev.ferry.lhcache.Received;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.WhoIsHost;
import dev.ferry.proto.v1.WhoTakesGuest;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Benchmark 1, host selection: the time from multicasting "who takes a guest?" to the first
 * WillTake, as a manager does for {@code run ... @ '*'}, and in the same run the group's raw
 * round trip ("which manager is host H?", answered at once by H alone). Their difference is what
 * the volunteers add: the willingness check and the answer delay proportional to load.
 *
 * <p>Runs inside a vcluster host (its network namespace) with the cluster key:
 * {@code vcluster exec h1 java -cp CP dev.ferry.bench.HostSelectionBench --key KEY --label '3 hosts'}.
 * Queries alternate between the two kinds and are spaced by {@code --gap-ms}, so they never
 * overlap and both kinds see the same machine load.
 */
public final class HostSelectionBench {
  /** The managers' defaults (ProgramManagerMain): same group, same port. */
  private static final Map<String, String> DEFAULTS = Map.of(
      "key", "", "iface", "eth0", "group", "239.255.73.50", "group-port", "7351",
      "n", "300", "warmup", "50", "gap-ms", "5", "baseline-host", "h2", "label", "vcluster");
  private static final Duration PER_ATTEMPT = Duration.ofMillis(200);
  private static final int ATTEMPTS = 3;

  private HostSelectionBench() {}

  public static void main(String[] argv) throws Exception {
    BenchArgs args = BenchArgs.parse(argv, DEFAULTS);
    NetworkInterface iface = NetworkInterface.getByName(args.string("iface"));
    if (iface == null) {
      throw new IllegalStateException("no interface " + args.string("iface") + ": run this inside a vcluster host");
    }
    String self = ipv4(iface);
    // A sender name no manager has: nobody mistakes this client for a host.
    GroupConfig config = new GroupConfig(InetAddress.getByName(args.string("group")),
        args.integer("group-port"), iface, "bench-client", self + ":0");
    String baselineHost = args.string("baseline-host");
    Samples baseline = new Samples("WhoIsHost " + baselineHost + " -> HostIs (raw group RTT)");
    Samples selection = new Samples("WhoTakesGuest -> first WillTake");
    Map<String, Integer> winners = new TreeMap<>();
    double minLoad = Double.MAX_VALUE;
    double maxLoad = 0;
    double sumLoad = 0;
    int unanswered = 0;
    int retried = 0;
    String loadBefore = loadAverage();
    try (GroupChannel group = new GroupChannel(config, ClusterKey.load(args.path("key")), System::currentTimeMillis)) {
      group.start(r -> { });
      int warmup = args.integer("warmup");
      int total = warmup + args.integer("n");
      long gapMillis = args.integer("gap-ms");
      for (int i = 0; i < total; i++) {
        boolean measured = i >= warmup;
        for (int half = 0; half < 2; half++) {
          boolean selectionTurn = (half == 0) == (i % 2 == 0);
          Datagram.Builder query = selectionTurn
              ? Datagram.newBuilder().setWhoTakesGuest(WhoTakesGuest.newBuilder().setMemBytes(0))
              : Datagram.newBuilder().setWhoIsHost(WhoIsHost.newBuilder().setHost(baselineHost));
          long start = System.nanoTime();
          Optional<Received> reply = selectionTurn
              ? group.ask(query, Datagram::hasWillTake, PER_ATTEMPT, ATTEMPTS)
              : group.ask(query, d -> d.hasHostIs() && d.getHostIs().getHost().equals(baselineHost),
                  PER_ATTEMPT, ATTEMPTS);
          long took = System.nanoTime() - start;
          if (reply.isEmpty()) {
            unanswered++;
          } else if (measured) {
            if (took > PER_ATTEMPT.toNanos()) {
              retried++;
            }
            if (selectionTurn) {
              selection.add(took);
              var willTake = reply.get().datagram().getWillTake();
              winners.merge(willTake.getHost(), 1, Integer::sum);
              minLoad = Math.min(minLoad, willTake.getLoad());
              maxLoad = Math.max(maxLoad, willTake.getLoad());
              sumLoad += willTake.getLoad();
            } else {
              baseline.add(took);
            }
          }
          Thread.sleep(gapMillis);
        }
      }
      System.out.printf("host selection (%s), client on %s (%s), %d warm-up rounds, %d ms between queries%n",
          args.string("label"), self, iface.getName(), warmup, gapMillis);
      System.out.println(Samples.header());
      System.out.println("  " + baseline.summary());
      System.out.println("  " + selection.summary());
      System.out.printf("  p50 difference (willingness check + load-proportional delay): %.3f ms%n",
          selection.percentileMillis(50) - baseline.percentileMillis(50));
      if (selection.count() > 0) {
        System.out.printf("  winners: %s; winner's reported load min/mean/max: %.2f/%.2f/%.2f"
                + " (a volunteer waits --answer-delay-ms-per-load x load before answering)%n",
            winners, minLoad, sumLoad / selection.count(), maxLoad);
      }
      System.out.printf("  /proc/loadavg before: %s; after: %s%n", loadBefore, loadAverage());
      System.out.printf("  queries needing a resend (> %d ms): %d; unanswered: %d; datagrams dropped: %d%n",
          PER_ATTEMPT.toMillis(), retried, unanswered, group.droppedCount());
    }
    if (unanswered > 0) {
      System.exit(1);
    }
  }

  private static String ipv4(NetworkInterface iface) {
    return iface.inetAddresses().filter(a -> a instanceof Inet4Address).findFirst()
        .map(InetAddress::getHostAddress)
        .orElseThrow(() -> new IllegalStateException(iface.getName() + " has no IPv4 address"));
  }

  private static String loadAverage() throws java.io.IOException {
    String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
    return fields[0] + " " + fields[1] + " " + fields[2];
  }
}
