package dev.ferry.it;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Waits for logical hosts to appear in, change in, or leave {@code lhosts --json}. Tests find
 * their own LH by a unique token in its command line (e.g. {@code sleep 41.123456}). An LH that
 * ended may stay listed for a while in state "exited", without processes.
 */
final class LhWatch {
  static final Duration LIMIT = Duration.ofSeconds(20);
  private static final long POLL_MS = 200;

  private final VCluster cluster;
  private final String fromHost;

  LhWatch(VCluster cluster, String fromHost) {
    this.cluster = cluster;
    this.fromHost = fromHost;
  }

  /** A sleep duration no other test uses, e.g. "41.538201": sleeps long, identifies the LH. */
  static String uniqueSleep(int seconds) {
    return seconds + "." + String.format("%06d", ThreadLocalRandom.current().nextInt(1_000_000));
  }

  /** The LH whose command line mentions {@code token}, once it satisfies {@code condition}. */
  LhView await(String token, Predicate<LhView> condition, String what) {
    return poll(token, found -> found.filter(condition).isPresent(), what).orElseThrow();
  }

  LhView await(String token) {
    return await(token, lh -> true, "listed");
  }

  /** Waits until the LH is no longer listed or is listed as exited with no process left. */
  void awaitEnded(String token) {
    poll(token, found -> found.isEmpty() || ended(found.get()), "ended (gone or exited)");
  }

  static boolean ended(LhView lh) {
    return "exited".equals(lh.state()) && lh.processes().isEmpty();
  }

  Optional<LhView> find(String token) {
    List<LhView> lhs = cluster.lhosts(fromHost);
    return lhs.stream().filter(lh -> lh.mentions(token)).findFirst();
  }

  /** Best-effort removal of a test's LH (cleanup only: the result is not checked). */
  void killQuietly(String lhId) {
    cluster.exec(fromHost, List.of("lhosts", "kill", lhId));
  }

  private Optional<LhView> poll(String token, Predicate<Optional<LhView>> done, String what) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (true) {
      Optional<LhView> found = find(token);
      if (done.test(found)) {
        return found;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("LH with '" + token + "' not " + what + " within " + LIMIT
            + " (lhosts --json on " + fromHost + "); last seen: "
            + found.map(LhView::json).orElse("not listed"));
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }
}
