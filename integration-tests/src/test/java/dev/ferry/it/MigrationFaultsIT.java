package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.TestPrograms.NUMBERED;
import static dev.ferry.it.TestPrograms.PYTHON;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Migration when managers die or the network breaks (issue 4, "Atomicity and failure"): before
 * the commit every fault leaves the program running where it was, with no line of output lost
 * or repeated, and nothing of it on the destination. The test hosts share one kernel and one
 * file system, so a destination that cheated (read the source's memory or pipes) would pass
 * the other tests: here the source manager is SIGKILLed right after the commit and the program
 * must go on. (A lost answer to the commit, "in doubt", is InDoubtMigrationIT.)
 * Tests kill managers, so the order matters: h3 dies in the first, h4 in the second, h2's link
 * goes down and up in the third, h1 dies in the last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationFaultsIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(4);

  private static final Duration LIMIT = Duration.ofSeconds(60);
  /** Big enough that the first pre-copy round takes a couple of seconds here. */
  private static final int BIG_MIB = 512;
  /** A broken link must end the move within this (keepalive: about 15 s, then the rollback). */
  private static final Duration LINK_DOWN_LIMIT = Duration.ofSeconds(40);
  private static final Pattern SENT = Pattern.compile("round \\d+, ([0-9.]+) MB sent");

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h2");
  /** lhosts typed on h1: it stays reachable in every test but the last. */
  private final CheckpointSteps onH1 = new CheckpointSteps(cluster, "h1");

  private void killManager(String host) throws IOException, InterruptedException {
    String pid = Files.readString(cluster.stateDir().resolve(host).resolve("pm.pid")).trim();
    Churn.kill("-KILL", pid);
  }

  /** {@code migrateprog --progress LHID --to HOST} typed on h1, in the background. */
  private RunningCommand startMove(String lhId, String to) {
    return cluster.start("h1", List.of("migrateprog", "--progress", lhId, "--to", to));
  }

  /** Until the move reports pages sent and the destination holds a process (its restore stub) for the LH. */
  private static void awaitTransferUnderway(RunningCommand move, LhCopies copies, String to) {
    await("the transfer of " + copies.lhId() + " to " + to + " under way").atMost(LIMIT)
        .pollInterval(Duration.ofMillis(20)).until(() -> {
          if (!move.isAlive()) {
            throw new AssertionError("migrateprog ended before the fault could be injected: " + move.describe());
          }
          return megabytesSent(move) >= 1 && !copies.pids(to).isEmpty();
        });
  }

  private static double megabytesSent(RunningCommand move) {
    Matcher m = SENT.matcher(new String(move.stderrSoFar(), StandardCharsets.UTF_8));
    double sent = 0;
    while (m.find()) {
      sent = Double.parseDouble(m.group(1));
    }
    return sent;
  }

  private static long since(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static void report(String format, Object... args) {
    System.err.println("MigrationFaultsIT: " + String.format(format, args));
  }

  @Test
  @Order(1)
  void aMoveToAHostWhoseManagerIsDeadLeavesTheProgramRunning() throws Exception {
    String token = LhWatch.uniqueSleep(1);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "120", "0.02", token);
    // Resolve h3 once so its address is cached, then kill its manager.
    assertEquals(0, cluster.exec("h1", List.of("run", "true", "@", "h3")).exit());
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h2", run(at("h1"), program))) {
      try {
        LhView lh = steps.awaitRunning(token, "h1");
        killManager("h3");
        Result failed = cluster.exec("h1", List.of("migrateprog", lh.id(), "--to", "h3"));
        assertEquals(1, failed.exit(), failed::toString);
        assertTrue(failed.err().contains(lh.id()), failed::toString);
        steps.awaitRunning(token, "h1");
        Result result = run.waitFor(LIMIT);
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(reference.waitFor(), result);
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  @Order(2)
  void aDestinationManagerKilledDuringPrecopyLeavesTheProgramRunningAndNothingThere() throws Exception {
    String rate = LhWatch.uniqueSleep(20);
    try (RunningCommand run = cluster.start("h1", run(List.of(), Churn.command(cluster, BIG_MIB, rate)))) {
      try {
        run.awaitStdout("tick 3\n", LIMIT);
        LhView lh = onH1.awaitRunning(rate, "h1");
        LhCopies copies = new LhCopies(cluster, lh.id(), "churn");
        try (RunningCommand move = startMove(lh.id(), "h4")) {
          awaitTransferUnderway(move, copies, "h4");
          killManager("h4");
          long killed = System.nanoTime();
          Result failed = move.waitFor(LIMIT);
          report("destination killed: migrateprog returned %d ms after the kill", since(killed));
          assertEquals(1, failed.exit(), failed::toString);
          assertTrue(failed.err().contains(lh.id() + " stays on h1") && failed.err().contains("h4"), failed::toString);
        }
        onH1.awaitRunning(rate, "h1");
        // The half-built copy's restore stub was traced with PTRACE_O_EXITKILL: it died with its manager.
        await("nothing of " + lh.id() + " left on h4").atMost(Duration.ofSeconds(10))
            .until(() -> copies.pids("h4").isEmpty());
        assertTrue(copies.runs("h1"), () -> copies.describe("h1"));
        Churn.endAndCheck(onH1, run, lh.id(), "h1", BIG_MIB);
      } finally {
        onH1.killLeftovers(rate);
      }
    }
  }

  @Test
  @Order(3)
  void aLinkBrokenDuringPrecopyEndsTheMoveSoonAndTheDestinationDropsItsCopy() throws Exception {
    String rate = LhWatch.uniqueSleep(21);
    try (RunningCommand run = cluster.start("h1", run(List.of(), Churn.command(cluster, BIG_MIB, rate)))) {
      try {
        run.awaitStdout("tick 3\n", LIMIT);
        LhView lh = onH1.awaitRunning(rate, "h1");
        LhCopies copies = new LhCopies(cluster, lh.id(), "churn");
        try (RunningCommand move = startMove(lh.id(), "h2")) {
          awaitTransferUnderway(move, copies, "h2");
          cluster.link("h2", false);
          long down = System.nanoTime();
          try {
            Result failed = move.waitFor(LIMIT);
            long returned = since(down);
            assertEquals(1, failed.exit(), failed::toString);
            assertTrue(failed.err().contains(lh.id() + " stays on h1") && failed.err().contains("h2"), failed::toString);
            assertTrue(returned < LINK_DOWN_LIMIT.toMillis(), "migrateprog took " + returned + " ms after the link broke");
            onH1.awaitRunning(rate, "h1");
            // Still cut off, h2 notices the dead connection by itself and destroys what it built.
            await("h2 drops its half-built copy of " + lh.id()).atMost(LINK_DOWN_LIMIT)
                .until(() -> copies.pids("h2").isEmpty());
            report("link down: migrateprog returned after %d ms, h2 dropped its copy after %d ms", returned, since(down));
          } finally {
            cluster.link("h2", true);
          }
        }
        // Both ways, at once: gRPC's reconnection back-off must not keep them apart (the last test needs it).
        long up = System.nanoTime();
        await("h1 and h2 reach each other again").atMost(LIMIT).pollInterval(Duration.ofMillis(500))
            .until(() -> cluster.hostStatus("h1").stream().anyMatch(h -> h.host().equals("h2"))
                && cluster.hostStatus("h2").stream().anyMatch(h -> h.host().equals("h1")));
        report("link up: h1 and h2 reach each other again after %d ms", since(up));
        assertTrue(copies.runs("h1"), () -> copies.describe("h1"));
        Churn.endAndCheck(onH1, run, lh.id(), "h1", BIG_MIB);
      } finally {
        onH1.killLeftovers(rate);
      }
    }
  }

  @Test
  @Order(4)
  void theProgramGoesOnWhenTheSourceManagerDiesRightAfterTheCommit() throws Exception {
    String token = LhWatch.uniqueSleep(2);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "150", "0.02", token);
    // The user is on h2; the program starts on h1 and moves to h2; then h1's manager dies.
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h2", run(at("h1"), program))) {
      try {
        LhView lh = steps.awaitRunning(token, "h1");
        run.awaitStdout("line 10\n", LIMIT);
        Result moved = cluster.exec("h1", List.of("migrateprog", lh.id(), "--to", "h2"));
        assertEquals(0, moved.exit(), moved::toString);
        killManager("h1");
        Result result = run.waitFor(LIMIT);
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(reference.waitFor(), result);
      } finally {
        steps.killLeftovers(token);
      }
    }
  }
}
