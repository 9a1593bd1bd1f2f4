package dev.ferry.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kernel-agent's churn test program ({@code kernel-agent/src/test/c/churn.c}) with
 * {@code --ticks}: it keeps rewriting its memory, prints "tick N" every 100 ms with N counted
 * by the program itself (so a lost line is a gap, a line printed twice a repeat, whatever the
 * clock did), and on SIGUSR1 checks every page of its memory and prints "check ok PAGES".
 * Its rate argument (MB/s written) doubles as the token that finds its LH in lhosts.
 */
final class Churn {
  private static final Pattern TICK = Pattern.compile("tick (\\d+)");
  private static final Pattern CHECK_OK = Pattern.compile("check ok (\\d+)");
  private static final Duration LIMIT = Duration.ofSeconds(60);

  private Churn() {}

  static Path binary(VCluster cluster) {
    Path churn = cluster.home().resolve("kernel-agent/target/native-test/churn");
    assertTrue(Files.isExecutable(churn), churn + " is missing: build kernel-agent first (mvn install)");
    return churn;
  }

  /** churn MIB RATE --ticks; RATE should be unique (e.g. LhWatch.uniqueSleep(20)). */
  static List<String> command(VCluster cluster, int mib, String rate) {
    return List.of(binary(cluster).toString(), Integer.toString(mib), rate, "--ticks");
  }

  /** The highest tick printed so far, or -1. */
  static long lastTick(byte[] stdout) {
    long last = -1;
    Matcher m = TICK.matcher(new String(stdout, java.nio.charset.StandardCharsets.UTF_8));
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    return last;
  }

  /**
   * The program goes on (ten more ticks), its memory checks out (SIGUSR1 to it on {@code host}:
   * "check ok"), then SIGTERM through run ends it; its whole output has no tick lost or repeated.
   */
  static void endAndCheck(CheckpointSteps steps, RunningCommand run, String lhId, String host, int mib)
      throws IOException, InterruptedException {
    long last = lastTick(run.stdoutSoFar());
    await(lhId + " goes on").atMost(LIMIT).until(() -> lastTick(run.stdoutSoFar()) >= last + 10);
    LhView lh = steps.awaitLh(lhId, l -> l.id().equals(lhId) && host.equals(l.host()) && "running".equals(l.state()),
        "running on " + host);
    long hostPid = lh.processes().stream().filter(p -> p.pid() == 2).findFirst().orElseThrow().hostPid();
    kill("-USR1", Long.toString(hostPid));
    run.awaitStdout("check ok", LIMIT);
    run.signal("TERM");
    Result result = run.waitFor(LIMIT);
    assertEquals(128 + 15, result.exit(), result::toString);
    assertNothingLostOrRepeated(result, mib, 1);
  }

  static void kill(String signal, String pid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", signal, pid).start();
    assertEquals(0, kill.waitFor(), "kill " + signal + " " + pid);
  }

  /**
   * The whole output is "ready 2", then ticks 0, 1, 2, ... with no number missing or repeated,
   * with "check ok PAGES" lines ({@code checks} of them, each for all {@code mib} MiB) among
   * them, and nothing else.
   */
  static void assertNothingLostOrRepeated(Result run, int mib, int checks) {
    String[] lines = run.out().split("\n", -1);
    assertEquals("ready 2", lines[0], () -> "first line: " + run);
    assertEquals("", lines[lines.length - 1], () -> "the output ends in the middle of a line: " + run);
    long expected = 0;
    int checked = 0;
    for (int i = 1; i < lines.length - 1; i++) {
      String line = lines[i];
      Matcher tick = TICK.matcher(line);
      Matcher ok = CHECK_OK.matcher(line);
      if (tick.matches()) {
        long want = expected;
        assertEquals(want, Long.parseLong(tick.group(1)),
            () -> "'" + line + "' where tick " + want + " belongs (output lost or repeated): " + run);
        expected++;
      } else if (ok.matches()) {
        assertEquals((long) mib * 256, Long.parseLong(ok.group(1)), () -> "pages checked: " + run);
        checked++;
      } else {
        throw new AssertionError("unexpected line '" + line + "' (a failed check?): " + run);
      }
    }
    assertEquals(checks, checked, () -> "'check ok' lines: " + run);
  }
}
