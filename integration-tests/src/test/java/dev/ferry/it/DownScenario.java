package dev.ferry.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A second, throw-away cluster (stand-in managers) filled with what a real one leaves behind:
 * programs in nested cgroups (cgroup2, and a frozen cgroup-v1 freezer group with a stopped
 * process) and a stray process in a host namespace, to check that {@code vcluster down}
 * removes all of it.
 */
final class DownScenario {
  private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");
  private static final Path FREEZER = Path.of("/sys/fs/cgroup/freezer");

  private final Path home;
  private final String name = "ferryitdown" + Long.toString(System.nanoTime() % 46656, 36);
  private final List<RunningCommand> programs = new ArrayList<>();

  DownScenario(Path home) {
    this.home = home;
  }

  void up() {
    Result up = vcluster(List.of("up", "2"));
    assertEquals(0, up.exit(), up::toString);
    assertEquals(0, LocalRun.run(List.of("tmux", "-L", VCluster.TMUX_SOCKET, "has-session", "-t",
        "=" + name + "-h2")).exit(), "up made an owner terminal");
  }

  void populate() throws IOException {
    Path v2 = UNIFIED.resolve(name + "-h1/lh-1/sub");
    Files.createDirectories(v2);
    start("h1", "echo $$ > " + v2.resolve("cgroup.procs") + "; echo in; exec sleep 999");
    if (Files.isDirectory(FREEZER)) {
      Path v1 = FREEZER.resolve(name + "-h2/lh-2");
      Files.createDirectories(v1);
      RunningCommand frozen =
          start("h2", "echo $$ > " + v1.resolve("cgroup.procs") + "; echo in; exec sleep 999");
      Files.writeString(v1.resolve("freezer.state"), "FROZEN");
      assertFalse(Files.readString(v1.resolve("cgroup.procs")).isBlank());
      frozen.signal("STOP");
    }
    start("h2", "echo in; exec sleep 998");
  }

  Result down() {
    Result down = vcluster(List.of("down"));
    programs.forEach(RunningCommand::close);
    return down;
  }

  void assertGone() throws IOException {
    for (RunningCommand program : programs) {
      program.waitFor(Duration.ofSeconds(10));
    }
    assertFalse(Files.exists(Path.of("/run", name + "-vcluster")), "state dir");
    try (Stream<Path> namespaces = Files.list(Path.of("/run/netns"))) {
      assertEquals(List.of(), namespaces.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(name + "-")).toList(), "namespaces");
    }
    assertFalse(Files.exists(UNIFIED.resolve(name + "-h1")), "cgroup2 group");
    for (String host : List.of("h1", "h2")) {
      assertEquals(1, LocalRun.run(List.of("tmux", "-L", VCluster.TMUX_SOCKET, "has-session", "-t",
          "=" + name + "-" + host)).exit(), "owner terminal of " + host);
    }
    assertFalse(Files.exists(FREEZER.resolve(name + "-h2")), "freezer group");
  }

  private RunningCommand start(String host, String script) {
    RunningCommand program = RunningCommand.start(
        List.of(home.resolve("bin/vcluster").toString(), "exec", host, "sh", "-c", script),
        ExecOptions.defaults().env("FERRY_VCLUSTER", name));
    programs.add(program);
    program.awaitStdout("in", Duration.ofSeconds(10));
    return program;
  }

  private Result vcluster(List<String> args) {
    List<String> command = new ArrayList<>(List.of(home.resolve("bin/vcluster").toString()));
    command.addAll(args);
    return LocalRun.run(command, ExecOptions.defaults().env("FERRY_VCLUSTER", name)
        .env("FERRY_PM_CMD", "exec sleep 1000").env("FERRY_VCLUSTER_NOWAIT", "1"));
  }
}
