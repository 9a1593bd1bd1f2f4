package dev.ferry.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;

/**
 * The reference a remote run is judged against: the same command run directly here, without
 * Ferry, then compared byte for byte.
 */
public final class LocalRun {
  private LocalRun() {}

  public static Result run(List<String> command) {
    return run(command, ExecOptions.defaults());
  }

  public static Result run(List<String> command, ExecOptions options) {
    try (RunningCommand running = RunningCommand.start(command, options)) {
      return running.waitFor();
    }
  }

  /** Same exit code, same stdout bytes, same stderr bytes; the message says where they part. */
  public static void assertSameOutput(Result expected, Result actual) {
    assertBytes("stdout", expected.stdout(), actual.stdout(), actual);
    assertBytes("stderr", expected.stderr(), actual.stderr(), actual);
    assertEquals(expected.exit(), actual.exit(), () -> "exit code differs; run gave " + actual);
  }

  static void assertBytes(String stream, byte[] expected, byte[] actual, Result whole) {
    if (Arrays.equals(expected, actual)) {
      return;
    }
    int at = Arrays.mismatch(expected, actual);
    throw new AssertionError(stream + " differs from the local run at byte " + at + " (expected "
        + expected.length + " bytes, got " + actual.length + ")\n--- expected ---\n"
        + Result.excerpt(expected) + "\n--- run gave ---\n" + whole);
  }
}
