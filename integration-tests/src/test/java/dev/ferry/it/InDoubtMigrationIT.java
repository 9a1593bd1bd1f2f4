package dev.ferry.it;

import static dev.ferry.it.Commands.run;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The answer to a migration's commit is lost: the destination thaws the program but the
 * source hears nothing ("in doubt", README "Moving running programs"). The managers run with
 * the test fault {@code --test-faults drop-commit-reply:N}: the destination carries out the
 * first N CommitLh(go) calls without answering them. The source must keep its copy frozen,
 * show it in-doubt, tell the user, and remove it once a resent GO is answered; at no moment may
 * both copies run, and the program's output goes on with nothing lost or repeated.
 */
class InDoubtMigrationIT {
  /**
   * The source asks three times (2 s each) before it declares the move in doubt, then resends GO
   * every 3 s: two of those go unanswered too, so the in-doubt state lasts about 10 s.
   */
  private static final int DROPPED_REPLIES = 5;

  @RegisterExtension
  static VCluster cluster = VCluster.hosts(2).withManagerArgs("--test-faults", "drop-commit-reply:" + DROPPED_REPLIES);

  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final int MIB = 64;

  private final CheckpointSteps steps = new CheckpointSteps(cluster, "h1");

  @Test
  void aLostCommitAnswerKeepsTheSourceCopyFrozenUntilTheDestinationConfirms() throws Exception {
    String rate = LhWatch.uniqueSleep(5);
    try (RunningCommand run = cluster.start("h1", run(List.of(), Churn.command(cluster, MIB, rate)))) {
      try {
        run.awaitStdout("tick 3\n", LIMIT);
        LhView lh = steps.awaitRunning(rate, "h1");
        LhCopies copies = new LhCopies(cluster, lh.id(), "churn");
        try (TwoCopiesWatch watch = new TwoCopiesWatch(copies, "h1", "h2")) {
          long start = System.nanoTime();
          Result moved = cluster.exec("h1", List.of("migrateprog", lh.id(), "--to", "h2"));
          long inDoubtAfter = since(start);
          assertEquals(1, moved.exit(), moved::toString);
          assertTrue(moved.err().contains("moving " + lh.id() + " to h2 is in doubt"), moved::toString);

          // Both hosts hold it: h1 frozen and in doubt, h2 running.
          List<LhView> listed = steps.lhsMentioning(lh.id());
          assertEquals("in-doubt", on("h1", listed).map(LhView::state).orElse("not listed"), listed::toString);
          assertEquals("running", on("h2", listed).map(LhView::state).orElse("not listed"), listed::toString);
          assertTrue(copies.frozen("h1") && !copies.pids("h1").isEmpty(), () -> copies.describe("h1"));
          assertTrue(copies.runs("h2"), () -> copies.describe("h2"));

          // GO is resent every 3 s; once h2 answers, h1's copy is destroyed (it never ran again).
          await("h1 drops its in-doubt copy").atMost(LIMIT).until(() -> copies.pids("h1").isEmpty());
          long resolvedAfter = since(start);
          await("lhosts lists " + lh.id() + " on h2 only").atMost(LhWatch.LIMIT).until(() -> {
            List<LhView> now = steps.lhsMentioning(lh.id());
            return on("h1", now).filter(l -> !LhWatch.ended(l)).isEmpty() && on("h2", now).isPresent();
          });
          watch.assertNeverTwoCopies();
          assertTrue(watch.sourceFrozenSamples() > 0 && watch.destinationRunningSamples() > 0,
              "the watch never saw h1's copy frozen and h2's running (" + watch.samples() + " samples)");
          System.err.printf("InDoubtMigrationIT: in doubt after %d ms, resolved after %d ms, %d samples%n",
              inDoubtAfter, resolvedAfter, watch.samples());
        }
        Churn.endAndCheck(steps, run, lh.id(), "h2", MIB);
      } finally {
        steps.killLeftovers(rate);
      }
    }
  }

  private static Optional<LhView> on(String host, List<LhView> lhs) {
    return lhs.stream().filter(l -> host.equals(l.host())).findFirst();
  }

  private static long since(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
