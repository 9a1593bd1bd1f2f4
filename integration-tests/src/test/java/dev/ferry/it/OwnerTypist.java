package dev.ferry.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Owners at work: types a harmless command into some hosts' owner terminals every {@value
 * #PERIOD_MS} ms until closed, so those hosts stay "owner active" (their idle threshold is a few
 * seconds). Typing failures are kept and reported by {@link #close}.
 */
final class OwnerTypist implements AutoCloseable {
  static final long PERIOD_MS = 500;

  private final VCluster cluster;
  private final List<String> hosts;
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean stopped;

  private OwnerTypist(VCluster cluster, List<String> hosts) {
    this.cluster = cluster;
    this.hosts = List.copyOf(hosts);
    this.thread = new Thread(this::typeUntilClosed, "owners-typing");
    this.thread.setDaemon(true);
  }

  /** Starts typing; returns after the first keystrokes reached every terminal. */
  static OwnerTypist start(VCluster cluster, List<String> hosts) {
    OwnerTypist typist = new OwnerTypist(cluster, hosts);
    typist.typeOnce();
    typist.thread.start();
    return typist;
  }

  private void typeOnce() {
    for (String host : hosts) {
      cluster.typeAsOwner(host, ": owner at work", "Enter");
    }
  }

  private void typeUntilClosed() {
    while (!stopped) {
      try {
        typeOnce();
        Thread.sleep(PERIOD_MS);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException | AssertionError e) {
        failures.add(e);
        return;
      }
    }
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("typing into the owner terminals of " + hosts + " failed",
          failures.get(0));
    }
  }
}
