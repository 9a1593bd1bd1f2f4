package dev.ferry.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Durations of one measured operation, in nanoseconds, and their summary line. Percentiles are
 * nearest-rank (p99 of 200 samples is the 198th smallest), so every figure printed is a time
 * that was actually measured.
 */
final class Samples {
  private final String name;
  private long[] nanos = new long[64];
  private int count;

  Samples(String name) {
    this.name = name;
  }

  void add(long durationNanos) {
    if (count == nanos.length) {
      nanos = Arrays.copyOf(nanos, count * 2);
    }
    nanos[count++] = durationNanos;
  }

  int count() {
    return count;
  }

  /** The nearest-rank percentile {@code p} (0 < p <= 100) in milliseconds. */
  double percentileMillis(double p) {
    if (count == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * count);
    return sorted[Math.max(0, Math.min(count - 1, rank - 1))] / 1e6;
  }

  double meanMillis() {
    long sum = 0;
    for (int i = 0; i < count; i++) {
      sum += nanos[i];
    }
    return count == 0 ? Double.NaN : sum / 1e6 / count;
  }

  /** One line: name, n, min, p50, p90, p99, max and mean, in milliseconds. */
  String summary() {
    return String.format(Locale.ROOT,
        "%-44s n=%-5d min=%8.3f  p50=%8.3f  p90=%8.3f  p99=%8.3f  max=%8.3f  mean=%8.3f ms",
        name, count, percentileMillis(0.0001), percentileMillis(50), percentileMillis(90),
        percentileMillis(99), percentileMillis(100), meanMillis());
  }

  static String header() {
    return "(times in milliseconds; p50/p90/p99 nearest-rank; n = measured samples after warm-up)";
  }
}
