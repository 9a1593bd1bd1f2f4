package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.TestPrograms.NUMBERED;
import static dev.ferry.it.TestPrograms.PYTHON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrateprog}: a running program moves between hosts while its {@code run} stays
 * attached: every byte of output arrives exactly once and in order, every byte of input is
 * consumed exactly once, and the LH keeps its id. Compared with uninterrupted local runs.
 */
class MigrationIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  private static final Duration LIMIT = Duration.ofSeconds(60);
  /** argv: FILE. Copies FILE to stdout slowly (1 MiB every 20 ms), so a reader runs for a while. */
  private static final String SLOW_CAT = String.join("\n",
      "import sys, time",
      "with open(sys.argv[1], 'rb') as f:",
      "    while True:",
      "        b = f.read(1 << 20)",
      "        if not b: break",
      "        sys.stdout.buffer.write(b); sys.stdout.buffer.flush()",
      "        time.sleep(0.02)");

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h1");

  @TempDir
  Path scratch;

  /** migrateprog typed on {@code host}, --json; returns the one result line. */
  private JsonObject migrate(String host, String target, String to) {
    List<String> command = new ArrayList<>(List.of("migrateprog", "--json", target));
    if (to != null) {
      command.addAll(List.of("--to", to));
    }
    Result r = cluster.exec(host, command);
    assertEquals(0, r.exit(), () -> "migrateprog failed: " + r);
    return JsonParser.parseString(r.out().trim()).getAsJsonObject();
  }

  @Test
  void numberedLinesFollowTheProgramAcrossThreeMigrations() {
    String token = LhWatch.uniqueSleep(1);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "8000", "0.001", token);   // a line every millisecond
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h3", run(at("h1"), program))) {
      try {
        LhView lh = steps.awaitRunning(token, "h1");
        run.awaitStdout("line 20\n", LIMIT);
        JsonObject first = migrate("h1", lh.id(), "h2");
        assertEquals(List.of(lh.id(), "h1", "h2", true), List.of(first.get("lh").getAsString(),
            first.get("from").getAsString(), first.get("to").getAsString(), first.get("moved").getAsBoolean()));
        assertTrue(first.get("freeze_ms").getAsDouble() > 0 && first.get("bytes").getAsLong() > 0, first::toString);
        assertTrue(first.get("rounds").getAsInt() >= 1, () -> "pre-copy is the default: " + first);
        steps.awaitRunning(token, "h2");
        migrate("h2", "python3", "h3");       // by program name, typed on its host
        steps.awaitRunning(token, "h3");
        migrate("h3", lh.id(), null);         // any willing host but h3
        Result result = run.waitFor(LIMIT);
        Result local = reference.waitFor();
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(local, result);
        assertEquals("", result.err(), result::toString);
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void everyStdinByteIsConsumedOnceAcrossMigrations() throws IOException {
    Path data = CheckpointSteps.text(scratch.resolve("stdin.txt"), 191);   // 200 MB
    Path slowCat = scratch.resolve("slowcat.py");
    Files.writeString(slowCat, SLOW_CAT);
    String expected = new String(new ProcessBuilder("sha256sum", data.toString()).start().getInputStream().readAllBytes())
        .split(" ")[0];
    String script = PYTHON + " " + slowCat + " " + data + " | run sha256sum @ '*'";
    try (RunningCommand run = cluster.start("h1", List.of("sh", "-c", script))) {
      try {
        LhView lh = steps.awaitRunningAnywhere("sha256sum");
        CheckpointSteps.sleep(300);
        String at = lh.host();
        for (int move = 0; move < 3; move++) {
          JsonObject moved = migrate(at, lh.id(), null);   // any willing host but this one
          at = moved.get("to").getAsString();
          steps.awaitRunning("sha256sum", at);
        }
        Result result = run.waitFor(LIMIT);
        assertEquals(0, result.exit(), result::toString);
        assertEquals(expected + "  -\n", result.out(), result::toString);
      } finally {
        steps.killLeftovers("sha256sum");
      }
    }
  }

  /**
   * A program that rewrites 40 MB/s of its memory and changes its layout every 100 ms
   * (mappings replaced, pages dropped) moves back and forth by pre-copy and once by
   * stop-and-copy; then it checks every page of its 64 MiB itself.
   */
  @Test
  void aBusyProgramsMemoryArrivesIntactWithAndWithoutPrecopy() {
    String churn = FerryHome.locate().resolve("kernel-agent/target/native-test/churn").toString();
    String token = "64";
    try (RunningCommand run = cluster.start("h3", run(at("h1"), List.of(churn, token, "40", "--layout", "--ticks")))) {
      try {
        run.awaitStdout("tick 3\n", LIMIT);
        LhView lh = steps.awaitRunning("churn", "h1");
        JsonObject there = migrate("h1", lh.id(), "h2");
        JsonObject back = migrate("h2", lh.id(), "h1");
        for (JsonObject r : List.of(there, back)) {
          assertTrue(r.get("rounds").getAsInt() >= 1 && !r.get("tracker").getAsString().isEmpty(), r::toString);
          assertEquals(r.get("rounds").getAsInt() + 1, r.getAsJsonArray("round_pages").size(), r::toString);
          assertTrue(r.get("bytes").getAsLong() >= r.get("resident_bytes").getAsLong() / 2, r::toString);
        }
        Result plain = cluster.exec("h1", List.of("migrateprog", "--json", "--no-precopy", lh.id(), "--to", "h3"));
        assertEquals(0, plain.exit(), plain::toString);
        JsonObject stopAndCopy = JsonParser.parseString(plain.out().trim()).getAsJsonObject();
        assertEquals(0, stopAndCopy.get("rounds").getAsInt(), stopAndCopy::toString);
        LhView moved = steps.awaitRunning("churn", "h3");
        cluster.exec("h3", List.of("sh", "-c", "kill -USR1 " + moved.processes().get(0).hostPid()));
        run.awaitStdout("check ok " + 64 * 256 + "\n", LIMIT);
        String out = new String(run.stdoutSoFar(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(!out.contains("check bad"), out);
      } finally {
        steps.killLeftovers("churn");
      }
    }
  }

  @Test
  void aRefusedOrFailedMigrationLeavesTheProgramRunningWhereItWas() {
    String token = LhWatch.uniqueSleep(2);
    List<String> program = List.of(PYTHON, "-c", NUMBERED, "100", "0.02", token);
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand run = cluster.start("h1", run(at("h2"), program))) {
      try {
        LhView lh = steps.awaitRunning(token, "h2");
        run.awaitStdout("line 5\n", LIMIT);
        Result unknown = cluster.exec("h2", List.of("migrateprog", lh.id(), "--to", "nosuchhost"));
        assertEquals(1, unknown.exit(), unknown::toString);
        assertTrue(unknown.err().contains("nosuchhost"), unknown::toString);
        Result self = cluster.exec("h2", List.of("migrateprog", lh.id(), "--to", "h2"));
        assertEquals(1, self.exit(), self::toString);
        steps.awaitRunning(token, "h2");
        Result result = run.waitFor(LIMIT);
        assertEquals(5, result.exit(), result::toString);
        LocalRun.assertSameOutput(reference.waitFor(), result);
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void aTwoProcessLhIsRefusedAndStays() {
    String token = LhWatch.uniqueSleep(3);
    try (RunningCommand run = cluster.start("h1", run(at("h3"), List.of("sh", "-c", "sleep " + token + "; echo done")))) {
      try {
        LhView lh = steps.awaitRunning(token, "h3");
        Result refused = cluster.exec("h3", List.of("migrateprog", lh.id(), "--to", "h1"));
        assertEquals(1, refused.exit(), refused::toString);
        assertTrue(refused.err().contains("2 processes"), refused::toString);
        Result result = run.waitFor(LIMIT);
        assertEquals(0, result.exit(), result::toString);
        assertEquals("done\n", result.out(), result::toString);
      } finally {
        steps.killLeftovers(token);
      }
    }
  }
}
