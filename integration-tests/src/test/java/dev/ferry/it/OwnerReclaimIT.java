package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.TestPrograms.NUMBERED;
import static dev.ferry.it.TestPrograms.PYTHON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Owner reclaim on three hosts, with real terminal input: keys typed into a host's owner
 * terminal (tmux send-keys into the shell there) make its guests leave; with every other owner
 * active too, a guest is frozen in place and resumes when its host's owner is idle again.
 * vcluster hosts count their owner idle after 3 s without input.
 */
class OwnerReclaimIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  private static final Duration LIMIT = Duration.ofSeconds(60);
  /** vcluster's idle threshold. */
  private static final long IDLE_THRESHOLD_MS = 3_000;

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h1");

  @Test
  void theOwnerTypingMovesTheGuestAwayAndItsOutputGoesOnWithoutLoss() {
    String token = LhWatch.uniqueSleep(1);
    String ownersToken = LhWatch.uniqueSleep(900);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "250", "0.02", token);
    // Every owner idle: the other hosts volunteer (an earlier test may have typed there).
    cluster.hostNames().forEach(OwnerReclaimIT::awaitOwnerIdle);
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h1", run(at("h2"), program));
        RunningCommand owners = cluster.start("h2", List.of("run", "sleep", ownersToken))) {
      try {
        LhView guest = steps.awaitRunning(token, "h2");
        LhView ownersOwn = steps.awaitRunning(ownersToken, "h2");
        long hostPid = guest.processes().get(0).hostPid();
        run.awaitStdout("line 20\n", LIMIT);

        long typed = System.nanoTime();
        cluster.typeAsOwner("h2", "ls", "Enter");
        awaitGone(hostPid);
        double goneMs = (System.nanoTime() - typed) / 1e6;
        LhView moved = steps.awaitLh(token, lh -> "running".equals(lh.state()), "running");
        assertNotEquals("h2", moved.host(), moved::json);
        assertEquals(guest.id(), moved.id());
        assertTrue(goneMs < 10_000, "the guest left h2 only after " + goneMs + " ms");

        Result result = run.waitFor(LIMIT);
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(reference.waitFor(), result);
        assertEquals("", result.err(), result::toString);
        // What the owner started on h2 is never touched.
        assertEquals(ownersOwn.id(), steps.awaitRunning(ownersToken, "h2").id());
        String log = log("h2");
        assertTrue(log.contains("reclaim: " + guest.id() + " (python3) moved to " + moved.host()
            + " because the owner is active"), "h2's log says what it did and why:\n" + log);
      } finally {
        steps.killLeftovers(token);
        steps.killLeftovers(ownersToken);
      }
    }
  }

  @Test
  void withEveryOwnerActiveTheGuestIsFrozenThenResumedWhenItsOwnerIsIdle() {
    String token = LhWatch.uniqueSleep(2);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "200", "0.03", token);
    awaitOwnerIdle("h2");
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h1", run(at("h2"), program))) {
      try {
        LhView guest = steps.awaitRunning(token, "h2");
        run.awaitStdout("line 10\n", LIMIT);
        try (OwnerTypist others = OwnerTypist.start(cluster, List.of("h1", "h3"))) {
          cluster.typeAsOwner("h2", "ls", "Enter");
          LhView frozen = steps.awaitLh(token, lh -> "frozen".equals(lh.state()), "frozen");
          assertEquals("h2", frozen.host(), "no host is willing: it stays on h2");
          // The owner keeps typing a little: the guest stays frozen and prints nothing.
          cluster.typeAsOwner("h2", "ls", "Enter");
          long lastKey = System.nanoTime();
          int before = run.stdoutSoFar().length;
          CheckpointSteps.sleep(1_000);
          assertEquals(before, run.stdoutSoFar().length, "a frozen guest printed");
          assertEquals("frozen", steps.awaitLh(token, lh -> true, "listed").state());
          // h2's owner stops; h1's and h3's go on: after the idle threshold it resumes on h2.
          LhView resumed = steps.awaitLh(token, lh -> "running".equals(lh.state()), "running");
          assertEquals("h2", resumed.host(), resumed::json);
          long resumedAfter = (System.nanoTime() - lastKey) / 1_000_000;
          assertTrue(resumedAfter >= IDLE_THRESHOLD_MS - 500,
              "resumed " + resumedAfter + " ms after the owner's last key");
          run.awaitStdout("line 120\n", LIMIT);
        }
        Result result = run.waitFor(LIMIT);
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(reference.waitFor(), result);
        String log = log("h2");
        assertTrue(log.contains("reclaim: froze " + guest.id() + " (python3) here"), "the freeze is logged");
        assertTrue(log.contains("reclaim: resumed " + guest.id() + " (python3) here"), "the resume is logged");
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void aGuestThatCannotMoveIsFrozenNotLeftRunning() {
    String token = LhWatch.uniqueSleep(3);
    awaitOwnerIdle("h3");
    try (RunningCommand run = cluster.start("h1",
        run(at("h3"), List.of("sh", "-c", "sleep " + token + "; echo done")))) {
      try {
        LhView guest = steps.awaitRunning(token, "h3");
        cluster.typeAsOwner("h3", "ls", "Enter");
        LhView frozen = steps.awaitLh(token, lh -> "frozen".equals(lh.state()), "frozen");
        assertEquals("h3", frozen.host());
        Result result = run.waitFor(LIMIT);
        assertEquals(0, result.exit(), result::toString);
        assertEquals("done\n", result.out(), result::toString);
        String log = log("h3");
        assertTrue(log.contains("reclaim: froze " + guest.id() + " (sh) here") && log.contains("2 processes"),
            "the freeze and why the guest could not move are logged");
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void anActiveOwnersHostRefusesExplicitGuestsSayingWhyAndStopsVolunteering() {
    awaitOwnerIdle("h3");
    try (OwnerTypist owner = OwnerTypist.start(cluster, List.of("h3"))) {
      Result refused = cluster.exec("h1", run(at("h3"), "true"));
      assertEquals(255, refused.exit(), refused::toString);
      assertTrue(refused.err().contains("h3 takes no guests now: its owner is active"), refused::toString);
      HostView h3 = host("h3");
      assertTrue(h3.ownerActive() && !h3.willing() && h3.idleS() >= 0 && h3.idleS() < 3, h3::toString);
      assertTrue(h3.whyUnwilling().startsWith("owner active: idle only "), h3::toString);
    }
    HostView idle = awaitOwnerIdle("h3");
    assertTrue(idle.idleS() >= 3 && idle.willing() && idle.whyUnwilling().isEmpty(), idle::toString);
    Result accepted = cluster.exec("h1", run(at("h3"), "true"));
    assertEquals(0, accepted.exit(), accepted::toString);
  }

  private static String log(String host) {
    try {
      return Files.readString(cluster.log(host));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static HostView host(String name) {
    return cluster.hostStatus("h1").stream().filter(h -> h.host().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in lhosts --hosts"));
  }

  /** Waits until {@code name}'s owner has been idle for the threshold (earlier tests typed there). */
  private static HostView awaitOwnerIdle(String name) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (true) {
      HostView h = host(name);
      if (!h.ownerActive()) {
        return h;
      }
      assertFalse(System.nanoTime() > deadline, () -> name + "'s owner never became idle: " + h);
      CheckpointSteps.sleep(200);
    }
  }

  /** Waits until no process has {@code pid} (the guest's process left the host). */
  private static void awaitGone(long pid) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (Files.exists(Path.of("/proc", Long.toString(pid)))) {
      assertFalse(System.nanoTime() > deadline, "process " + pid + " still on its host after " + LIMIT);
      CheckpointSteps.sleep(5);
    }
  }
}
