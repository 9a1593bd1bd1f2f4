package dev.ferry.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the checkpoint/restart tests do again and again: find a test's LH by a unique token,
 * checkpoint it, read the id a restarted LH got, compare split output with a whole run, and
 * make the files they feed programs.
 * Commands are typed on {@code fromHost}; {@code lhosts} there lists the whole cluster.
 */
final class CheckpointSteps {
  static final Duration LIMIT = Duration.ofSeconds(30);
  private static final Pattern STARTED = Pattern.compile("ferry: (\\S+) started on (\\S+)\n");

  private final VCluster cluster;
  private final String fromHost;

  CheckpointSteps(VCluster cluster, String fromHost) {
    this.cluster = cluster;
    this.fromHost = fromHost;
  }

  /** The LH mentioning {@code token}, once one matching {@code condition} is listed. */
  LhView awaitLh(String token, Predicate<LhView> condition, String what) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (true) {
      List<LhView> mine = lhsMentioning(token);
      Optional<LhView> found = mine.stream().filter(condition).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no LH with '" + token + "' " + what + " within " + LIMIT
            + "; listed: " + mine.stream().map(LhView::json).toList());
      }
      sleep(100);
    }
  }

  /** The running LH mentioning {@code token} on {@code host}. */
  LhView awaitRunning(String token, String host) {
    return awaitLh(token, lh -> host.equals(lh.host()) && "running".equals(lh.state()),
        "running on " + host);
  }

  /** The running LH mentioning {@code token}, wherever it runs. */
  LhView awaitRunningAnywhere(String token) {
    return awaitLh(token, lh -> "running".equals(lh.state()), "running");
  }

  List<LhView> lhsMentioning(String token) {
    return cluster.lhosts(fromHost).stream().filter(lh -> lh.mentions(token)).toList();
  }

  Set<String> lhIds() {
    return new TreeSet<>(cluster.lhosts(fromHost).stream().map(LhView::id).toList());
  }

  /** {@code migrateprog --checkpoint DIR [OPTIONS] TARGET} typed on {@code host}. */
  Result checkpoint(String host, String dir, String target, String... options) {
    List<String> command = new ArrayList<>(List.of("migrateprog", "--checkpoint", dir));
    command.addAll(List.of(options));
    command.add(target);
    return cluster.exec(host, command);
  }

  /** {@code migrateprog --checkpoint DIR --json TARGET} on {@code host}, which must succeed. */
  JsonObject checkpointJson(String host, String dir, String target, String... options) {
    List<String> all = new ArrayList<>(List.of(options));
    all.add("--json");
    Result result = checkpoint(host, dir, target, all.toArray(String[]::new));
    assertEquals(0, result.exit(), () -> "migrateprog --checkpoint failed: " + result);
    return JsonParser.parseString(result.out().trim()).getAsJsonObject();
  }

  /** {@code run -v --restart DIR @ HOST}, started (not waited for). */
  RunningCommand startRestart(String dir, String host) {
    return cluster.start(fromHost, List.of("run", "-v", "--restart", dir, "@", host),
        ExecOptions.defaults().timeout(LIMIT));
  }

  /** Kills every LH of this test that still runs (cleanup after a failure; not checked). */
  void killLeftovers(String token) {
    List<LhView> left;
    try {
      left = lhsMentioning(token);
    } catch (AssertionError e) {
      // Must not hide the test's own failure (it runs in finally); vcluster down kills the rest.
      System.err.println("killLeftovers(" + token + "): " + e.getMessage());
      return;
    }
    for (LhView lh : left) {
      if (!LhWatch.ended(lh)) {
        cluster.exec(fromHost, List.of("lhosts", "kill", lh.id()));
      }
    }
  }

  /** The LH id and host from the "ferry: LHID started on HOST" line that run -v prints. */
  static String[] startedLine(Result result) {
    Matcher m = STARTED.matcher(result.err());
    assertTrue(m.lookingAt(), () -> "no 'ferry: LHID started on HOST' line first: " + result);
    return new String[] {m.group(1), m.group(2)};
  }

  /** stderr without the leading "started" line of run -v. */
  static String errAfterStartedLine(Result result) {
    startedLine(result);
    return result.err().substring(result.err().indexOf('\n') + 1);
  }

  /** Waits until the command wrote at least {@code bytes} bytes on stdout. */
  static void awaitStdoutBytes(RunningCommand run, int bytes) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (run.stdoutSoFar().length < bytes) {
      if (!run.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("no " + bytes + " bytes of output: " + run.describe());
      }
      sleep(10);
    }
  }

  /** The checkpointed run's output followed by the restart's is the uninterrupted output. */
  static void assertJoinedOutput(Result reference, Result before, Result after) {
    byte[] joined = concat(before.stdout(), after.stdout());
    LocalRun.assertBytes("stdout before checkpoint + stdout after restart", reference.stdout(),
        joined, new Result(after.exit(), joined, after.stderr()));
  }

  /**
   * A fork's stdout is what the whole run printed from some line on, after {@code marker}:
   * the fork began where the image was taken and printed everything after it.
   */
  static void assertTailFromLineAfter(Result reference, Result fork, String marker) {
    byte[] all = reference.stdout();
    byte[] tail = fork.stdout();
    assertTrue(tail.length > 0 && tail.length <= all.length, () -> "fork printed " + fork);
    byte[] end = Arrays.copyOfRange(all, all.length - tail.length, all.length);
    assertArrayEquals(end, tail, () -> "the fork's output is not the end of the whole run's: "
        + fork + "\n--- whole run ---\n" + reference);
    String head = new String(all, 0, all.length - tail.length, StandardCharsets.UTF_8);
    assertTrue(head.endsWith("\n") && head.contains(marker),
        () -> "the fork did not start at a line after '" + marker + "': " + fork);
  }

  /** A copy of an image directory's files (to damage one without touching the original). */
  static Path copyImage(Path from, Path to) throws IOException {
    Files.createDirectory(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        Files.copy(file, to.resolve(file.getFileName()));
      }
    }
    return to;
  }

  /** MIB MiB of base64 text from a fixed seed: compressible, but not trivially. */
  static Path text(Path file, int mib) throws IOException {
    Random random = new Random(20240617L + mib);
    byte[] raw = new byte[57 * 16];
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
      for (long written = 0; written < (long) mib << 20; written += raw.length * 4 / 3) {
        random.nextBytes(raw);
        out.write(Base64.getMimeEncoder().encodeToString(raw));
        out.write('\n');
      }
    }
    return file;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
