package dev.ferry.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * bin/vcluster itself, with a stand-in for the program manager (a sleep): the network between
 * host namespaces, {@code exec}'s pass-through, and the manager's placement.
 */
class VClusterScriptIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3).withManagerCommand("exec sleep 1000");

  private static final String PYTHON = "/usr/bin/python3";

  @Test
  void eachHostHasItsOwnAddressAndOnlyAMulticastRoute() {
    for (String host : cluster.hostNames()) {
      Result addr = cluster.exec(host, List.of("ip", "-4", "-o", "addr", "show", "dev", "eth0"));
      assertEquals(0, addr.exit(), addr::toString);
      assertTrue(addr.out().contains("inet " + cluster.address(host) + "/15"), addr::toString);
      Result routes = cluster.exec(host, List.of("ip", "route", "show"));
      assertTrue(routes.out().contains("224.0.0.0/4 dev eth0"), routes::toString);
      assertFalse(routes.out().contains("default"), routes::toString);
    }
  }

  @Test
  void multicastFromOneHostReachesTheOthers() {
    String receiver = String.join("\n",
        "import socket, struct, sys",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('', 7351))",
        "s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,",
        "  struct.pack('4s4s', socket.inet_aton('239.255.73.50'), socket.inet_aton(sys.argv[1])))",
        "print('joined', flush=True)",
        "s.settimeout(10)",
        "data, addr = s.recvfrom(1500)",
        "print(data.decode(), 'from', addr[0], flush=True)");
    String sender = String.join("\n",
        "import socket, time",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)",
        "for _ in range(20):",
        "  s.sendto(b'hello-ferry', ('239.255.73.50', 7351)); time.sleep(0.05)");
    try (RunningCommand h2 = cluster.start("h2", List.of(PYTHON, "-c", receiver, "198.18.0.2"));
        RunningCommand h3 = cluster.start("h3", List.of(PYTHON, "-c", receiver, "198.18.0.3"))) {
      h2.awaitStdout("joined", Duration.ofSeconds(10));
      h3.awaitStdout("joined", Duration.ofSeconds(10));
      Result sent = cluster.exec("h1", List.of(PYTHON, "-c", sender));
      assertEquals(0, sent.exit(), sent::toString);
      for (RunningCommand receiverRun : List.of(h2, h3)) {
        Result got = receiverRun.waitFor(Duration.ofSeconds(15));
        assertEquals("joined\nhello-ferry from 198.18.0.1\n", got.out(), got::toString);
      }
    }
  }

  @Test
  void execPassesStdinOutputErrorAndExitCodeThrough() {
    byte[] input = new byte[300_000];
    for (int i = 0; i < input.length; i++) {
      input[i] = (byte) (i * 31);
    }
    Result result = cluster.exec("h2", List.of("sh", "-c", "cat; printf 'to stderr' >&2; exit 42"),
        input);
    assertEquals(42, result.exit(), result::toString);
    LocalRun.assertBytes("stdout", input, result.stdout(), result);
    assertEquals("to stderr", result.err());
  }

  @Test
  void execSetsSocketPathAndDefaultInterruptSignals() {
    Result result = cluster.exec("h3", List.of("sh", "-c",
        "echo \"$FERRY_SOCKET\"; echo \"$PATH\"; grep '^SigIgn' /proc/self/status"));
    assertEquals(0, result.exit(), result::toString);
    String[] lines = result.out().split("\n");
    assertEquals(cluster.socket("h3").toString(), lines[0]);
    assertTrue(lines[1].startsWith(cluster.home().resolve("bin") + ":"), lines[1]);
    long ignored = Long.parseLong(lines[2].replaceAll("SigIgn:\\s*", ""), 16);
    assertEquals(0, ignored & 0b110, "SIGINT and SIGQUIT must not be ignored: " + lines[2]);
  }

  @Test
  void startedCommandIsTheHandlesOwnProcessAndGetsItsSignals() {
    List<String> command = List.of("sh", "-c", "echo $$; exec sleep 30");
    try (RunningCommand running = cluster.start("h2", command)) {
      running.awaitStdout("\n", Duration.ofSeconds(10));
      assertEquals(Long.toString(running.pid()), text(running.stdoutSoFar()).trim(),
          "vcluster exec must exec the command, so that signals to the handle reach it");
      running.signal("TERM");
      assertEquals(143, running.waitFor(Duration.ofSeconds(10)).exit());
    }
  }

  @Test
  void managersRunInTheirHostsNamespaceInTheirOwnSession() throws IOException {
    for (String host : cluster.hostNames()) {
      long pid = Long.parseLong(
          Files.readString(cluster.stateDir().resolve(host).resolve("pm.pid")).trim());
      Result hostNet = cluster.exec(host, List.of("readlink", "/proc/self/ns/net"));
      assertEquals(hostNet.out().trim(), Files.readSymbolicLink(
          Path.of("/proc", Long.toString(pid), "ns/net")).toString(), host);
      assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(),
          hostNet.out().trim(), "host namespace must not be the root namespace");
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      assertEquals(Long.toString(pid), fields[3], "session id of the manager of " + host);
    }
    Path key = cluster.stateDir().resolve("cluster.key");
    assertEquals(32, Files.size(key));
    assertEquals("r--------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(key)));
  }

  @Test
  void eachHostHasAnOwnerTerminalInItsNamespaceWhoseTtyItsManagerWatches() throws IOException {
    for (String host : cluster.hostNames()) {
      String tty = Files.readString(cluster.stateDir().resolve(host).resolve("owner.tty")).trim();
      Result pane = LocalRun.run(List.of("tmux", "-L", VCluster.TMUX_SOCKET, "display-message", "-p",
          "-t", "=" + cluster.ownerSession(host) + ":", "#{pane_tty} #{pane_pid}"));
      assertEquals(0, pane.exit(), pane::toString);
      String[] ttyAndPid = pane.out().trim().split(" ");
      assertEquals(tty, ttyAndPid[0], host + "'s owner terminal");
      Result hostNet = cluster.exec(host, List.of("readlink", "/proc/self/ns/net"));
      assertEquals(hostNet.out().trim(), Files.readSymbolicLink(
          Path.of("/proc", ttyAndPid[1], "ns/net")).toString(), "the owner's shell runs in " + host);
      long pid = Long.parseLong(
          Files.readString(cluster.stateDir().resolve(host).resolve("pm.pid")).trim());
      String environ = Files.readString(Path.of("/proc", Long.toString(pid), "environ"));
      assertTrue(environ.contains("FERRY_PM_OWNER_TTY=" + tty + "\0"), host + "'s manager is given its tty");
    }
  }

  @Test
  void upRefusesAnExistingClusterAndUsageErrorsExitTwo() {
    ExecOptions sameName = ExecOptions.defaults().env("FERRY_VCLUSTER", cluster.name())
        .env("FERRY_PM_CMD", "exec sleep 1000").env("FERRY_VCLUSTER_NOWAIT", "1");
    String vcluster = cluster.home().resolve("bin/vcluster").toString();
    Result again = LocalRun.run(List.of(vcluster, "up", "2"), sameName);
    assertEquals(1, again.exit(), again::toString);
    assertTrue(again.err().contains("already exists") && again.err().contains("down"),
        again::toString);
    assertEquals(2, LocalRun.run(List.of(vcluster, "up"), sameName).exit());
    assertEquals(2, LocalRun.run(List.of(vcluster, "up", "0"), sameName).exit());
    assertEquals(2, LocalRun.run(List.of(vcluster, "frobnicate"), sameName).exit());
    assertEquals(1, LocalRun.run(List.of(vcluster, "exec", "h9", "true"), sameName).exit());
    Result status = LocalRun.run(List.of(vcluster, "status"), sameName);
    assertEquals(0, status.exit(), status::toString);
    assertTrue(status.out().contains("h3") && status.out().contains("198.18.0.3"),
        status::toString);
  }

  @Test
  void downRemovesEverythingOfItsClusterOnlyAndIsIdempotent() throws IOException {
    DownScenario scenario = new DownScenario(cluster.home());
    try {
      scenario.up();
      scenario.populate();
      Result down = scenario.down();
      assertEquals(0, down.exit(), down::toString);
      scenario.assertGone();
      assertEquals(0, scenario.down().exit(), "second down");
      // Our own cluster is untouched, its owner terminals too.
      Result alive = cluster.exec("h1", List.of("true"));
      assertEquals(0, alive.exit(), alive::toString);
      for (String host : cluster.hostNames()) {
        assertEquals(0, LocalRun.run(List.of("tmux", "-L", VCluster.TMUX_SOCKET, "has-session", "-t",
            "=" + cluster.ownerSession(host))).exit(), host + "'s owner terminal");
      }
    } finally {
      scenario.down();
    }
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
