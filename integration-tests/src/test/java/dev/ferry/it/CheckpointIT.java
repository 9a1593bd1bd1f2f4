package dev.ferry.it;

import static dev.ferry.it.CheckpointSteps.LIMIT;
import static dev.ferry.it.CheckpointSteps.assertJoinedOutput;
import static dev.ferry.it.CheckpointSteps.assertTailFromLineAfter;
import static dev.ferry.it.CheckpointSteps.awaitStdoutBytes;
import static dev.ferry.it.CheckpointSteps.errAfterStartedLine;
import static dev.ferry.it.CheckpointSteps.startedLine;
import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrateprog --checkpoint DIR} and {@code run --restart DIR}: a program checkpointed in
 * the middle of its run and restarted elsewhere prints, across both runs, exactly what one
 * uninterrupted local run prints. Commands are typed on h1 unless said otherwise.
 */
class CheckpointIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  private static final String PYTHON = "/usr/bin/python3";
  /** argv: LINES TOKEN. Numbered lines every 50 ms; the token only names the LH. */
  private static final String TICKER = String.join("\n",
      "import sys, time",
      "for n in range(int(sys.argv[1])):",
      "    print('line', n, flush=True)",
      "    time.sleep(0.05)",
      "sys.exit(4)");
  /** argv: LINES TOKEN. Holds ~200 MB of distinct objects and prints from them, then a hash. */
  private static final String BIG_PYTHON = String.join("\n",
      "import hashlib, sys, time",
      "blocks = [bytes([i % 251]) * 1000 + i.to_bytes(4, 'little') for i in range(200000)]",
      "for n in range(int(sys.argv[1])):",
      "    b = blocks[n * 1999 % len(blocks)]",
      "    print('line', n, b[0], int.from_bytes(b[-4:], 'little'), flush=True)",
      "    time.sleep(0.05)",
      "h = hashlib.sha256()",
      "for b in blocks:",
      "    h.update(b)",
      "print(h.hexdigest())",
      "sys.exit(3)");

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h1");

  @TempDir
  Path scratch;

  @Test
  void pythonWithTwoHundredMegabytesMovesToAnotherHostKeepingItsId() {
    String token = LhWatch.uniqueSleep(1);
    List<String> program = List.of(PYTHON, "-c", BIG_PYTHON, "100", token);
    String dir = scratch.resolve("python-image").toString();
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand first = cluster.start("h1", run(at("h1"), program))) {
      try {
        first.awaitStdout("line 10 ", LIMIT);
        LhView lh = steps.awaitRunning(token, "h1");
        JsonObject image = steps.checkpointJson("h1", dir, "python3");
        assertEquals(lh.id(), image.get("lh").getAsString(), image::toString);
        assertEquals("python3", image.get("program").getAsString(), image::toString);
        assertEquals("h1", image.get("from").getAsString(), image::toString);
        assertEquals(dir, image.get("dir").getAsString(), image::toString);
        assertFalse(image.get("left_running").getAsBoolean(), image::toString);
        assertTrue(image.get("bytes").getAsLong() > 200_000_000L, image::toString);
        Result before = first.waitFor(LIMIT);
        assertCheckpointedRun(before, lh.id(), dir);

        try (RunningCommand restart = steps.startRestart(dir, "h2")) {
          LhView moved = steps.awaitRunning(token, "h2");
          assertEquals(lh.id(), moved.id(), "the first restart must keep the LH id: " + moved);
          Result after = restart.waitFor();
          assertEquals(List.of(lh.id(), "h2"), List.of(startedLine(after)), after::toString);
          Result whole = reference.waitFor();
          assertEquals(3, whole.exit(), whole::toString);
          assertJoinedOutput(whole, before, after);
          assertEquals(whole.exit(), after.exit(), after::toString);
          assertEquals(whole.err(), errAfterStartedLine(after), after::toString);
        }
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void bcComputingPiFromAFileContinuesOnAnotherHost() throws IOException {
    Path pi = scratch.resolve("pi.bc");
    Files.writeString(pi, "for (s = 200; s <= 1600; s += 200) { scale = s; 4*a(1) }\nquit\n");
    checkpointMidRunAndRestart(List.of("bc", "-l", pi.toString()), pi.toString(), "h2", "h3",
        "h1");
  }

  @Test
  void gzipOfFortyMegabytesContinuesOnTheSameHost() throws IOException {
    Path data = CheckpointSteps.text(scratch.resolve("gzip-input.txt"), 40);
    checkpointMidRunAndRestart(List.of("gzip", "-c", data.toString()), data.toString(), "h2",
        "h3", "h2");
  }

  /**
   * xz 5.4 holds a pipe to itself (for its user-abort signal handling): both ends are in the
   * program, so the pipe, its flags and any bytes in it travel with the image.
   */
  @Test
  void xzWithItsSelfPipeContinuesOnAnotherHost() throws IOException {
    Path data = CheckpointSteps.text(scratch.resolve("xz-input.txt"), 8);
    checkpointMidRunAndRestart(List.of("xz", "-T1", "-c", data.toString()), data.toString(), "h3",
        "h2", "h1");
  }

  @Test
  void leaveRunningImageRestartsAsAForkWhileTheOriginalFinishes() {
    String token = LhWatch.uniqueSleep(3);
    List<String> program = List.of(PYTHON, "-c", TICKER, "80", token);
    String dir = scratch.resolve("fork-image").toString();
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand original = cluster.start("h1", run(at("h2"), program))) {
      try {
        original.awaitStdout("line 10\n", LIMIT);
        LhView lh = steps.awaitRunning(token, "h2");
        JsonObject image = steps.checkpointJson("h1", dir, lh.id(), "--leave-running");
        assertTrue(image.get("left_running").getAsBoolean(), image::toString);
        assertTrue(original.isAlive(), "--leave-running ended the program");
        try (RunningCommand restart = steps.startRestart(dir, "h3")) {
          Result fork = restart.waitFor();
          String[] started = startedLine(fork);
          assertNotEquals(lh.id(), started[0], "a restart of a --leave-running image is a fork");
          assertEquals("h3", started[1], fork::toString);
          Result whole = reference.waitFor();
          LocalRun.assertSameOutput(whole, original.waitFor());
          assertEquals(whole.exit(), fork.exit(), fork::toString);
          assertEquals("", errAfterStartedLine(fork), fork::toString);
          assertTailFromLineAfter(whole, fork, "line 10\n");
        }
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void secondRestartOfAKilledLhImageIsAForkWithTheSameOutput() {
    String token = LhWatch.uniqueSleep(4);
    List<String> program = List.of(PYTHON, "-c", TICKER, "50", token);
    String dir = scratch.resolve("twice-image").toString();
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand first = cluster.start("h1", run(at("h3"), program))) {
      try {
        first.awaitStdout("line 10\n", LIMIT);
        LhView lh = steps.awaitRunning(token, "h3");
        steps.checkpointJson("h2", dir, lh.id());
        Result before = first.waitFor(LIMIT);
        assertCheckpointedRun(before, lh.id(), dir);
        Result whole = reference.waitFor();

        for (String host : List.of("h1", "h2")) {
          try (RunningCommand restart = steps.startRestart(dir, host)) {
            Result after = restart.waitFor();
            String[] started = startedLine(after);
            assertEquals(host, started[1], after::toString);
            assertEquals(whole.exit(), after.exit(), after::toString);
            assertEquals("", errAfterStartedLine(after), after::toString);
            assertJoinedOutput(whole, before, after);
            if (host.equals("h1")) {
              assertEquals(lh.id(), started[0], "the first restart keeps the id: " + after);
            } else {
              assertNotEquals(lh.id(), started[0], "a second restart is a fork: " + after);
            }
          }
        }
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  /**
   * A shell pipeline: the shell waiting for its children, a subshell waiting for its sleep, the
   * pipes between them (the subshell and its children sharing one write end), checkpointed on h2
   * by h3 while the subshell sleeps and restarted on h3: every process comes back at its pid
   * under its parent, and the output is the uninterrupted run's.
   */
  @Test
  void aShellPipelineContinuesOnAnotherHost() throws IOException {
    String token = LhWatch.uniqueSleep(3);
    Path big = CheckpointSteps.text(scratch.resolve("big.txt"), 8);
    List<String> program = List.of("/bin/sh", "-c",
        "(sleep 2; cut -c1-2 " + big + ") | sort | uniq -c; : " + token);
    Result reference = LocalRun.run(program);
    assertEquals(0, reference.exit(), reference::toString);
    String dir = scratch.resolve("pipeline-image").toString();
    try (RunningCommand first = cluster.start("h1", run(at("h2"), program))) {
      try {
        LhView lh = steps.awaitLh(token, l -> l.processes().size() == 5, "with 5 processes");
        JsonObject done = steps.checkpointJson("h3", dir, lh.id());
        Result before = first.waitFor(LIMIT);
        assertCheckpointedRun(before, lh.id(), dir);
        assertEquals(0, before.stdout().length, () -> "output before the pipeline had input: " + done);
        try (RunningCommand restart = steps.startRestart(dir, "h3")) {
          Result after = restart.waitFor();
          assertEquals(List.of(lh.id(), "h3"), List.of(startedLine(after)), after::toString);
          assertJoinedOutput(reference, before, after);
          assertEquals(0, after.exit(), after::toString);
        }
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  @Test
  void damagedReusedAndForeignImagesAreRefused() throws IOException {
    String token = LhWatch.uniqueSleep(5);
    List<String> program = List.of(PYTHON, "-c", TICKER, "100", token);
    Path image = scratch.resolve("image");
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand original = cluster.start("h1", run(at("h2"), program))) {
      try {
        original.awaitStdout("line 5\n", LIMIT);
        LhView lh = steps.awaitRunning(token, "h2");
        steps.checkpointJson("h1", image.toString(), lh.id(), "--leave-running");

        Result reused = steps.checkpoint("h1", image.toString(), lh.id(), "--leave-running");
        assertEquals(1, reused.exit(), () -> "checkpoint into an existing image: " + reused);
        assertTrue(reused.err().contains(image.toString()), reused::toString);

        Path notMine = scratch.resolve("by-nobody");
        Result stranger = cluster.exec("h3", VCluster.asNobody(List.of("migrateprog",
            "--checkpoint", notMine.toString(), lh.id())));
        assertEquals(1, stranger.exit(), () -> "nobody checkpointed root's LH: " + stranger);
        assertTrue(stranger.err().contains(lh.id()), stranger::toString);
        assertFalse(Files.exists(notMine), "a refused checkpoint left " + notMine);

        Path truncated = CheckpointSteps.copyImage(image, scratch.resolve("truncated"));
        Path pages = truncated.resolve("pages.bin");
        try (FileChannel channel = FileChannel.open(pages, StandardOpenOption.WRITE)) {
          channel.truncate(channel.size() / 2);
        }
        Path notAnImage = Files.createDirectory(scratch.resolve("not-an-image"));
        Files.writeString(notAnImage.resolve("lh.txt"), "hello\n");

        Set<String> idsBefore = steps.lhIds();
        assertRestartFails(truncated, "truncated", List.of("run", "--restart"));
        assertRestartFails(notAnImage, notAnImage.toString(), List.of("run", "--restart"));
        assertRestartFails(image, "", VCluster.asNobody(List.of("run", "--restart")));
        Set<String> idsAfter = steps.lhIds();
        idsAfter.removeAll(idsBefore);
        assertEquals(Set.of(), idsAfter, "failed restarts left logical hosts");

        assertTrue(original.isAlive(), "the refusals ended the program");
        LocalRun.assertSameOutput(reference.waitFor(), original.waitFor());
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  /** {@code RUN_RESTART DIR @ h3} exits 255 with one "ferry: " line mentioning {@code says}. */
  private void assertRestartFails(Path dir, String says, List<String> runRestart) {
    List<String> command = new ArrayList<>(runRestart);
    command.addAll(List.of(dir.toString(), "@", "h3"));
    Result result = cluster.exec("h1", command);
    assertEquals(255, result.exit(), () -> command + ": " + result);
    ErrorsAndSecurityIT.assertFerryMessage(result);
    assertTrue(result.err().contains(says), () -> command + ": " + result);
    assertEquals("", result.out(), () -> command + ": " + result);
  }

  /**
   * Runs PROGRAM on {@code runHost}, checkpoints it by LH id from {@code checkpointHost} once it
   * printed something, restarts it on {@code restartHost}; output and exit must be the local
   * run's. {@code token} is a word of PROGRAM's command line no other LH has.
   */
  private void checkpointMidRunAndRestart(List<String> program, String token, String runHost,
      String checkpointHost, String restartHost) {
    String dir = scratch.resolve("image").toString();
    try (RunningCommand reference = RunningCommand.start(program, ExecOptions.defaults());
        RunningCommand first = cluster.start("h1", run(at(runHost), program))) {
      try {
        LhView lh = steps.awaitRunning(token, runHost);
        awaitStdoutBytes(first, 1);
        steps.checkpointJson(checkpointHost, dir, lh.id());
        Result before = first.waitFor(LIMIT);
        assertCheckpointedRun(before, lh.id(), dir);
        try (RunningCommand restart = steps.startRestart(dir, restartHost)) {
          Result after = restart.waitFor();
          assertEquals(List.of(lh.id(), restartHost), List.of(startedLine(after)),
              after::toString);
          Result whole = reference.waitFor();
          assertEquals(0, whole.exit(), whole::toString);
          assertJoinedOutput(whole, before, after);
          assertEquals(whole.exit(), after.exit(), after::toString);
          assertEquals(whole.err(), errAfterStartedLine(after), after::toString);
          assertTrue(after.stdout().length > 0, "the program had ended before the checkpoint");
        }
      } finally {
        steps.killLeftovers(token);
      }
    }
  }

  /** The run attached to a checkpointed LH ends 255 with one line saying where it went. */
  private static void assertCheckpointedRun(Result before, String lhId, String dir) {
    assertEquals(255, before.exit(), before::toString);
    assertEquals("ferry: " + lhId + " checkpointed to " + dir + "\n", before.err(),
        before::toString);
  }
}
