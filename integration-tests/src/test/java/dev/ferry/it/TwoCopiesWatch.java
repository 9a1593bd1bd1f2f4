package dev.ferry.it;

import java.util.ArrayList;
import java.util.List;

/**
 * Samples, every few milliseconds while a migration goes on, whether the LH's copies on the
 * source and the destination run, and remembers every moment both did. To be immune to the
 * sampler itself being descheduled between two reads, a moment counts only when the
 * destination ran at a read before and at a read after the source's read showed it running.
 */
final class TwoCopiesWatch implements AutoCloseable {
  private static final long PERIOD_MS = 5;

  private final LhCopies copies;
  private final String source;
  private final String destination;
  private final Thread sampler;
  private final List<String> bothRunning = new ArrayList<>();
  private volatile boolean stop;
  private int samples;
  private int sourceFrozenSamples;
  private int destinationRunningSamples;
  private Throwable failure;

  TwoCopiesWatch(LhCopies copies, String source, String destination) {
    this.copies = copies;
    this.source = source;
    this.destination = destination;
    this.sampler = new Thread(this::sample, "two-copies-watch");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sample() {
    try {
      while (!stop) {
        boolean before = copies.runs(destination);
        boolean here = copies.runs(source);
        boolean sourceFrozen = !copies.pids(source).isEmpty() && copies.frozen(source);
        boolean after = copies.runs(destination);
        synchronized (this) {
          samples++;
          sourceFrozenSamples += sourceFrozen ? 1 : 0;
          destinationRunningSamples += before && after ? 1 : 0;
          if (before && here && after && bothRunning.size() < 10) {
            bothRunning.add(System.currentTimeMillis() + ": " + copies.describe(source) + "; " + copies.describe(destination));
          }
        }
        Thread.sleep(PERIOD_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | AssertionError e) {
      synchronized (this) {
        failure = e;
      }
    }
  }

  /** Stops sampling; fails if two copies ran at once, or if the sampler could not read the copies. */
  void assertNeverTwoCopies() {
    close();
    synchronized (this) {
      if (failure != null) {
        throw new AssertionError("the two-copies watch failed", failure);
      }
      if (!bothRunning.isEmpty()) {
        throw new AssertionError("LH " + copies.lhId() + " ran on " + source + " and " + destination + " at once: "
            + bothRunning);
      }
    }
  }

  synchronized int samples() {
    return samples;
  }

  /** Samples in which the source's copy existed and was frozen. */
  synchronized int sourceFrozenSamples() {
    return sourceFrozenSamples;
  }

  /** Samples in which the destination's copy ran. */
  synchronized int destinationRunningSamples() {
    return destinationRunningSamples;
  }

  @Override
  public void close() {
    stop = true;
    try {
      sampler.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
