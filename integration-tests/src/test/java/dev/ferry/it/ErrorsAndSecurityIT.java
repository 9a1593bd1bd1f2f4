package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.ServerFrame;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures say what went wrong in one line and the managers keep serving: unknown hosts, no
 * manager, usage errors, oversized requests, and callers without the cluster key.
 */
class ErrorsAndSecurityIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  @TempDir
  Path scratch;

  @Test
  void unknownHostIsNamedInOneLine() {
    Result result = cluster.exec("h1", run(at("nosuchhost"), "echo", "hi"));
    assertEquals(255, result.exit(), result::toString);
    assertFerryMessage(result);
    assertTrue(result.err().contains("nosuchhost"), result::toString);
    assertEquals("", result.out());
  }

  @Test
  void nothingListeningAtTheSocket() throws IOException {
    Path missing = scratch.resolve("missing.sock");
    Path stale = scratch.resolve("stale.sock");
    try (ServerSocketChannel bound = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      bound.bind(UnixDomainSocketAddress.of(stale));
    }
    assertTrue(Files.exists(stale), "a socket file nobody listens on");
    for (Path socket : List.of(missing, stale)) {
      List<String> command = new ArrayList<>(List.of("FERRY_SOCKET=" + socket));
      command.addAll(run(at("h2"), "echo", "hi"));
      Result result = cluster.exec("h1", command);
      assertEquals(255, result.exit(), result::toString);
      assertFerryMessage(result);
    }
  }

  @Test
  void runWithoutAProgramIsAUsageError() {
    Result help = cluster.exec("h1", List.of("run", "--help"));
    assertEquals(0, help.exit(), help::toString);
    assertTrue(help.out().toLowerCase(Locale.ROOT).contains("usage"), help::toString);
    for (List<String> command : List.of(List.of("run"), List.of("run", "@", "h2"))) {
      Result result = cluster.exec("h1", command);
      assertTrue(Set.of(2, 255).contains(result.exit()), result::toString);
      assertTrue(result.err().toLowerCase(Locale.ROOT).contains("usage"), result::toString);
      assertEquals("", result.out());
    }
  }

  @Test
  void oversizedRequestIsRefusedAndManagersKeepServing() throws Exception {
    ServerFrame reply = LocalProtocol.sendOversizedRun(cluster.socket("h1"), 20 << 20);
    assertTrue(reply != null && reply.hasError(),
        "the manager must answer an oversized request with an error frame, got " + reply);
    assertTrue(Set.of(ErrorCode.INVALID_ARGUMENT, ErrorCode.RESOURCE_EXHAUSTED)
        .contains(reply.getError().getCode()), reply::toString);
    assertFalse(reply.getError().getMessage().isBlank(), reply::toString);
    assertManagersServe();
  }

  @Test
  void callsWithoutTheClusterKeyAreRefused() throws IOException {
    Path marker = scratch.resolve("created-by-a-stranger");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classPath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    Result probe = cluster.exec("h1", List.of(javaBin, "-cp", classPath,
        UnauthenticatedProbe.class.getName(), cluster.address("h2") + ":7350", marker.toString()));
    assertEquals(0, probe.exit(), probe::toString);
    assertEquals("ListLhs UNAUTHENTICATED\nStatus UNAUTHENTICATED\nCreateLh UNAUTHENTICATED\n",
        probe.out(), probe::toString);
    assertManagersServe();
    assertFalse(Files.exists(marker), "an unauthenticated CreateLh ran a program");
  }

  @Test
  void everyHostReportsItsStatus() {
    List<HostView> hosts = cluster.hostStatus("h2");
    assertEquals(cluster.hostNames(), hosts.stream().map(HostView::host).sorted().toList(),
        hosts::toString);
    for (HostView host : hosts) {
      assertTrue(host.address().startsWith(cluster.address(host.host())), host::toString);
      assertTrue(host.freeMem() > 0 && host.load() >= 0 && host.guests() >= 0, host::toString);
    }
  }

  /** Every host still lists the cluster and runs programs on another host. */
  private static void assertManagersServe() {
    for (String host : cluster.hostNames()) {
      assertEquals(cluster.hostNames().size(), cluster.hostStatus(host).size(), host);
    }
    Result echo = cluster.exec("h1", run(at("h2"), "echo", "still serving"));
    LocalRun.assertSameOutput(new Result(0, RunIT.bytes("still serving\n"), new byte[0]), echo);
  }

  /** One line on stderr, starting with "ferry: ". */
  static void assertFerryMessage(Result result) {
    String err = result.err();
    boolean oneLine = err.endsWith("\n") && err.indexOf('\n') == err.length() - 1;
    assertTrue(err.startsWith("ferry: ") && oneLine,
        () -> "expected one 'ferry: ...' line on stderr: " + result);
  }
}
