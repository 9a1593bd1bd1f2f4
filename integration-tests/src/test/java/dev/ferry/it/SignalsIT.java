package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.Commands.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Signals sent to {@code run} reach the remote program; {@code lhosts} lists, stops, continues
 * and kills logical hosts from any host, but only for their owner (or root).
 */
class SignalsIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  private static final Duration QUICKLY = Duration.ofSeconds(5);
  private final LhWatch watch = new LhWatch(cluster, "h1");

  @ParameterizedTest(name = "SIG{0} -> {1}")
  @CsvSource({"INT, 130", "TERM, 143", "QUIT, 131", "HUP, 129"})
  void signalToRunEndsTheRemoteProgram(String signal, int expectedExit) {
    String token = LhWatch.uniqueSleep(41);
    try (RunningCommand run = cluster.start("h1", run(at("h2"), "sleep", token))) {
      watch.await(token);
      long sent = System.nanoTime();
      run.signal(signal);
      Result result = run.waitFor(Duration.ofSeconds(15));
      Duration took = Duration.ofNanos(System.nanoTime() - sent);
      assertEquals(expectedExit, result.exit(), result::toString);
      assertTrue(took.compareTo(QUICKLY) < 0, "run took " + took + " to end after SIG" + signal);
      watch.awaitEnded(token);
    }
  }

  @ParameterizedTest(name = "SIG{0} reaches the program's handler")
  @CsvSource({"INT", "QUIT"})
  void signalReachesTheProgramsOwnHandler(String signal) {
    String script = "trap 'echo got " + signal + "; exit 7' " + signal + "; echo ready; while :; do sleep 0.1; done";
    try (RunningCommand run = cluster.start("h1", run(at("h3"), sh(script)))) {
      run.awaitStdout("ready", LhWatch.LIMIT);
      run.signal(signal);
      Result result = run.waitFor(Duration.ofSeconds(15));
      assertEquals(7, result.exit(), result::toString);
      assertEquals("ready\ngot " + signal + "\n", result.out(), result::toString);
    }
  }

  @Test
  void stopAndContinueThroughRun() {
    String token = LhWatch.uniqueSleep(42);
    try (RunningCommand run = cluster.start("h1", run(at("h2"), "sleep", token))) {
      LhView lh = watch.await(token, l -> "running".equals(l.state()), "running");
      try {
        run.signal("TSTP");
        LhView stopped = watch.await(token, l -> "stopped".equals(l.state()), "stopped");
        assertEquals("stopped", mainProcess(stopped).state(), stopped.json());
        run.signal("CONT");
        LhView resumed = watch.await(token, l -> "running".equals(l.state()), "running again");
        assertFalse("stopped".equals(mainProcess(resumed).state()), resumed.json());
        run.signal("TERM");
        Result result = run.waitFor(Duration.ofSeconds(15));
        assertEquals(143, result.exit(), result::toString);
      } finally {
        if (run.isAlive()) {
          watch.killQuietly(lh.id());
        }
      }
    }
  }

  @Test
  void lhostsListsTheLhAndKillFromAnotherHostEndsIt() throws IOException {
    String token = LhWatch.uniqueSleep(43);
    try (RunningCommand run = cluster.start("h1", run(at("h2"), "sleep", token))) {
      LhView lh = watch.await(token);
      try {
        assertEquals("h2", lh.host(), lh.json());
        assertEquals("root", lh.user(), lh.json());
        assertEquals("sleep", lh.program(), lh.json());
        LhView.ProcessView main = mainProcess(lh);
        assertEquals(2, main.pid(), lh.json());
        assertTrue(main.command().contains(token), lh.json());
        // All hosts share /proc: the host pid must be the real sleep.
        String cmdline = Files.readString(Path.of("/proc", Long.toString(main.hostPid()),
            "cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("sleep " + token),
            "host pid " + main.hostPid() + ": " + cmdline);

        Result kill = cluster.exec("h3", List.of("lhosts", "kill", lh.id()));
        assertEquals(0, kill.exit(), kill::toString);
        Result result = run.waitFor(Duration.ofSeconds(15));
        assertEquals(137, result.exit(), result::toString);
        watch.awaitEnded(token);
      } finally {
        if (run.isAlive()) {
          watch.killQuietly(lh.id());
        }
      }
    }
  }

  @Test
  void anotherUserCannotKillRootsLh() {
    String token = LhWatch.uniqueSleep(44);
    try (RunningCommand run = cluster.start("h1", run(at("h2"), "sleep", token))) {
      LhView lh = watch.await(token);
      try {
        Result refused = cluster.exec("h3", VCluster.asNobody(List.of("lhosts", "kill", lh.id())));
        assertEquals(1, refused.exit(), refused::toString);
        assertFalse(refused.err().isEmpty(), "a message says why: " + refused);
        assertTrue(run.isAlive(), "run ended although the kill was refused");
        assertEquals("running", watch.await(token).state());
        run.signal("TERM");
        assertEquals(143, run.waitFor(Duration.ofSeconds(15)).exit());
      } finally {
        if (run.isAlive()) {
          watch.killQuietly(lh.id());
        }
      }
    }
  }

  /** The program itself: process LHID.2. */
  static LhView.ProcessView mainProcess(LhView lh) {
    return lh.processes().stream().filter(p -> p.name().equals(lh.id() + ".2")).findFirst()
        .orElseThrow(() -> new AssertionError("no process " + lh.id() + ".2 in " + lh.json()));
  }
}
