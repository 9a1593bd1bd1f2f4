package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.TestPrograms.NUMBERED;
import static dev.ferry.it.TestPrograms.PYTHON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Migration when managers die. The test hosts share one kernel and one file system, so a
 * destination that cheated (read the source's memory or pipes) would pass the other tests:
 * here the source manager is SIGKILLed right after the commit and the program must go on,
 * and a move to a host whose manager is dead must leave the program running where it was.
 * Each test kills a manager, so the order matters (h3 dies in the first, h1 in the second).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationFaultsIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  private static final Duration LIMIT = Duration.ofSeconds(60);

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h2");

  private void killManager(String host) throws IOException, InterruptedException {
    String pid = Files.readString(cluster.stateDir().resolve(host).resolve("pm.pid")).trim();
    Process kill = new ProcessBuilder("kill", "-KILL", pid).start();
    assertEquals(0, kill.waitFor(), "kill -KILL " + pid);
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
