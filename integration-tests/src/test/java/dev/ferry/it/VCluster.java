package dev.ferry.it;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * A Ferry cluster of network-namespace hosts for one test class:
 * <pre>
 * {@literal @}RegisterExtension static VCluster cluster = VCluster.hosts(3);
 * </pre>
 * runs {@code bin/vcluster up 3} before the class's tests and {@code bin/vcluster down} after
 * them, always: also when {@code up} fails half-way, and from a JVM shutdown hook if the JVM is
 * stopped before. Each instance has its own cluster name ({@code ferryit} + 4 random chars), so
 * it never touches a user's demo cluster or another test run. When a test fails, the tail of
 * every manager's log is printed and attached to the failure.
 */
public final class VCluster implements BeforeAllCallback, AfterAllCallback,
    TestExecutionExceptionHandler {
  private static final Duration UP_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration DOWN_TIMEOUT = Duration.ofSeconds(60);
  private static final int LOG_LINES = 40;
  /** The tmux socket of every vcluster's owner terminals. */
  public static final String TMUX_SOCKET = "ferry";

  private final int hostCount;
  private final String name = "ferryit" + randomSuffix();
  private final Path home = FerryHome.locate();
  private final Map<String, String> upEnv = new LinkedHashMap<>();
  private final List<String> upOptions = new ArrayList<>();
  private final List<String> managerArgs = new ArrayList<>();
  private Thread shutdownHook;

  private VCluster(int hostCount) {
    if (hostCount < 1) {
      throw new IllegalArgumentException("a cluster needs at least one host, not " + hostCount);
    }
    this.hostCount = hostCount;
  }

  public static VCluster hosts(int count) {
    return new VCluster(count);
  }

  /** Extra program manager arguments ({@code vcluster up N -- ARGS}). */
  public VCluster withManagerArgs(String... args) {
    managerArgs.addAll(List.of(args));
    return this;
  }

  public VCluster withGuestNice(int nice) {
    upOptions.addAll(List.of("--guest-nice", Integer.toString(nice)));
    return this;
  }

  /**
   * For tests of vcluster itself: run this shell command instead of a program manager
   * (FERRY_PM_CMD) and do not wait for managers to answer.
   */
  public VCluster withManagerCommand(String shellCommand) {
    upEnv.put("FERRY_PM_CMD", shellCommand);
    upEnv.put("FERRY_VCLUSTER_NOWAIT", "1");
    return this;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    shutdownHook = new Thread(() -> down(), name + "-down");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    List<String> up = new ArrayList<>(List.of(vcluster().toString(), "up"));
    up.addAll(upOptions);
    up.add(Integer.toString(hostCount));
    if (!managerArgs.isEmpty()) {
      up.add("--");
      up.addAll(managerArgs);
    }
    ExecOptions options = ExecOptions.defaults().timeout(UP_TIMEOUT).env("FERRY_VCLUSTER", name);
    for (Map.Entry<String, String> e : upEnv.entrySet()) {
      options = options.env(e.getKey(), e.getValue());
    }
    Result result;
    try (RunningCommand running = RunningCommand.start(up, options)) {
      result = running.waitFor();
    } catch (RuntimeException | AssertionError e) {
      down();
      throw e;
    }
    if (result.exit() != 0) {
      String logs = ManagerLogs.tails(logs(), LOG_LINES);
      down();
      throw new AssertionError("vcluster up " + hostCount + " failed (cluster " + name + "): "
          + result + "\n" + logs);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    String failure = down();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down; the hook runs (harmlessly: down is idempotent).
    }
    if (failure != null) {
      throw new AssertionError(failure);
    }
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    String tails = ManagerLogs.tails(logs(), LOG_LINES);
    System.err.println(context.getDisplayName() + " failed; " + tails);
    failure.addSuppressed(new ManagerLogs(tails));
    throw failure;
  }

  /** Runs {@code command} on {@code host} with empty stdin and the default timeout. */
  public Result exec(String host, List<String> command) {
    return exec(host, command, ExecOptions.defaults());
  }

  public Result exec(String host, List<String> command, byte[] stdin) {
    return exec(host, command, ExecOptions.defaults().stdin(stdin));
  }

  public Result exec(String host, List<String> command, ExecOptions options) {
    try (RunningCommand running = start(host, command, options)) {
      return running.waitFor();
    }
  }

  /** Starts {@code command} on {@code host}; the handle's pid is the command's own pid. */
  public RunningCommand start(String host, List<String> command) {
    return start(host, command, ExecOptions.defaults());
  }

  public RunningCommand start(String host, List<String> command, ExecOptions options) {
    List<String> full = new ArrayList<>(List.of(vcluster().toString(), "exec", host));
    full.addAll(command);
    return RunningCommand.start(full, options.env("FERRY_VCLUSTER", name));
  }

  /** {@code vcluster link HOST down|up}: unplugs or plugs back the host's network cable. */
  public void link(String host, boolean up) {
    ExecOptions options = ExecOptions.defaults().env("FERRY_VCLUSTER", name);
    try (RunningCommand running = RunningCommand.start(
        List.of(vcluster().toString(), "link", host, up ? "up" : "down"), options)) {
      Result result = running.waitFor();
      if (result.exit() != 0) {
        throw new AssertionError("vcluster link " + host + (up ? " up" : " down") + " failed: " + result);
      }
    }
  }

  /** {@code lhosts --json} on {@code host}, which must succeed. */
  public List<LhView> lhosts(String host) {
    Result result = exec(host, List.of("lhosts", "--json"));
    if (result.exit() != 0) {
      throw new AssertionError("lhosts --json on " + host + " failed: " + result);
    }
    return LhView.parseLines(result.out());
  }

  /** {@code lhosts --hosts --json} on {@code host}, which must succeed. */
  public List<HostView> hostStatus(String host) {
    Result result = exec(host, List.of("lhosts", "--hosts", "--json"));
    if (result.exit() != 0) {
      throw new AssertionError("lhosts --hosts --json on " + host + " failed: " + result);
    }
    return HostView.parseLines(result.out());
  }

  /**
   * The tmux session of {@code host}'s owner terminal ({@code vcluster up} makes one per host on
   * the tmux socket {@value #TMUX_SOCKET}, named after the cluster).
   */
  public String ownerSession(String host) {
    return name + "-" + host;
  }

  /**
   * Types {@code keys} into {@code host}'s owner terminal as its owner would, through {@code
   * tmux send-keys} (tmux key names: "Enter", "Space"); the shell there reads them.
   */
  public void typeAsOwner(String host, String... keys) {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", TMUX_SOCKET, "send-keys", "-t",
        "=" + ownerSession(host) + ":"));
    command.addAll(List.of(keys));
    Result result = LocalRun.run(command);
    if (result.exit() != 0) {
      throw new AssertionError("typing into the owner terminal of " + host + " failed: " + result);
    }
  }

  /** The command as user and group 65534 (nobody) with no supplementary groups. */
  public static List<String> asNobody(List<String> command) {
    List<String> full = new ArrayList<>(
        List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
    full.addAll(command);
    return full;
  }

  public String name() {
    return name;
  }

  public Path home() {
    return home;
  }

  public List<String> hostNames() {
    List<String> hosts = new ArrayList<>();
    for (int i = 1; i <= hostCount; i++) {
      hosts.add("h" + i);
    }
    return hosts;
  }

  /** The host's IPv4 address inside the cluster: h1 is 198.18.0.1, h2 198.18.0.2, ... */
  public String address(String host) {
    return "198.18.0." + Integer.parseInt(host.substring(1));
  }

  public Path stateDir() {
    return Path.of("/run", name + "-vcluster");
  }

  public Path socket(String host) {
    return stateDir().resolve(host).resolve("pm.sock");
  }

  public Path log(String host) {
    return stateDir().resolve(host).resolve("pm.log");
  }

  private List<Path> logs() {
    return hostNames().stream().map(this::log).toList();
  }

  private Path vcluster() {
    return home.resolve("bin/vcluster");
  }

  /** Removes the cluster; returns why that failed, or null. Idempotent. */
  private synchronized String down() {
    ExecOptions options = ExecOptions.defaults().timeout(DOWN_TIMEOUT).env("FERRY_VCLUSTER", name);
    String failure = null;
    try (RunningCommand running =
        RunningCommand.start(List.of(vcluster().toString(), "down"), options)) {
      Result result = running.waitFor();
      if (result.exit() != 0) {
        failure = "vcluster down (cluster " + name + ") failed: " + result;
      }
    } catch (RuntimeException | AssertionError e) {
      failure = "vcluster down (cluster " + name + ") failed: " + e;
    }
    if (failure != null) {
      System.err.println(failure);
    }
    return failure;
  }

  private static String randomSuffix() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      suffix.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return suffix.toString();
  }
}
