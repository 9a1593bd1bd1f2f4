package dev.ferry.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The copies of one logical host on the vcluster hosts, seen the way only a test can: the hosts
 * share this kernel, so their managers' cgroups ({@code <cluster>-hN/lh-<id>}, cgroup2 or the v1
 * freezer) and {@code /proc} are readable here. A copy <em>runs</em> when its cgroup is not
 * (being) frozen and holds a process of the program that is neither traced (a restore stub being
 * built, a capture) nor dying (SIGKILL pending, exiting, zombie: a frozen copy being destroyed
 * leaves the freezer only to exit, without running a user instruction).
 */
final class LhCopies {
  private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");
  private static final Path FREEZER = Path.of("/sys/fs/cgroup/freezer");

  private final VCluster cluster;
  private final String lhId;
  private final String comm;
  private final Map<String, Path> parents = new ConcurrentHashMap<>();

  /** {@code program}: the executable's file name, as /proc/PID/comm shows it. */
  LhCopies(VCluster cluster, String lhId, String program) {
    this.cluster = cluster;
    this.lhId = lhId;
    this.comm = program.length() > 15 ? program.substring(0, 15) : program;
  }

  String lhId() {
    return lhId;
  }

  /** The copy's cgroup directory on {@code host} (it may not exist). */
  Path cgroup(String host) {
    return parents.computeIfAbsent(host, this::hostCgroup).resolve("lh-" + lhId);
  }

  /** The host manager's own cgroup (cgroup2 when the manager uses it, else the v1 freezer). */
  private Path hostCgroup(String host) {
    String top = cluster.name() + "-" + host;
    for (Path root : List.of(UNIFIED, FREEZER)) {
      Optional<Path> parent = find(root, top);
      if (parent.isPresent() && (root.equals(FREEZER) || Files.exists(parent.get().resolve("cgroup.freeze")))) {
        return parent.get();
      }
    }
    throw new AssertionError("no cgroup " + top + " under " + UNIFIED + " or " + FREEZER);
  }

  /** Every process in the copy's cgroup on {@code host} (none when it does not exist). */
  List<Integer> pids(String host) {
    return read(cgroup(host).resolve("cgroup.procs")).lines().filter(l -> !l.isBlank())
        .map(l -> Integer.parseInt(l.strip())).toList();
  }

  boolean frozen(String host) {
    Path dir = cgroup(host);
    if (Files.exists(dir.resolve("cgroup.events"))) {
      return read(dir.resolve("cgroup.events")).lines().anyMatch(l -> l.equals("frozen 1"));
    }
    return read(dir.resolve("freezer.state")).strip().equals("FROZEN");
  }

  /** Whether the manager asked the kernel to freeze the copy (it may still be on its way). */
  boolean freezeRequested(String host) {
    Path dir = cgroup(host);
    if (Files.exists(dir.resolve("cgroup.freeze"))) {
      return read(dir.resolve("cgroup.freeze")).strip().equals("1");
    }
    return !read(dir.resolve("freezer.state")).strip().equals("THAWED");
  }

  /** Whether the program runs on {@code host} right now (see the class comment). */
  boolean runs(String host) {
    List<Integer> pids = pids(host);
    if (pids.isEmpty() || freezeRequested(host)) {
      return false;
    }
    for (int pid : pids) {
      String status = read(Path.of("/proc", Integer.toString(pid), "status"));
      String stat = read(Path.of("/proc", Integer.toString(pid), "stat"));
      if (field(status, "Name").equals(comm) && field(status, "TracerPid").equals("0") && !dying(status, stat)) {
        return true;
      }
    }
    return false;
  }

  private static final long SIGKILL_BIT = 1L << (9 - 1);
  private static final long PF_EXITING = 0x4;

  private static boolean dying(String status, String stat) {
    if (status.isEmpty() || stat.isEmpty()) {
      return true;   // gone
    }
    String state = field(status, "State");
    boolean killed = (Long.parseUnsignedLong(field(status, "SigPnd"), 16) & SIGKILL_BIT) != 0
        || (Long.parseUnsignedLong(field(status, "ShdPnd"), 16) & SIGKILL_BIT) != 0;
    // stat: "pid (comm) state ppid pgrp session tty tpgid flags ..."; comm may hold spaces.
    String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    boolean exiting = (Long.parseLong(after[6]) & PF_EXITING) != 0;
    return state.startsWith("Z") || state.startsWith("X") || killed || exiting;
  }

  /** "host: pids [..], frozen F, runs R" for assertion messages. */
  String describe(String host) {
    try {
      return host + ": " + cgroup(host) + " pids " + pids(host) + (pids(host).isEmpty() ? ""
          : ", frozen " + frozen(host) + ", runs " + runs(host));
    } catch (RuntimeException | AssertionError e) {
      return host + ": " + e;
    }
  }

  private static String field(String status, String name) {
    for (String line : status.split("\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).strip();
      }
    }
    return "";
  }

  /** A file's text, or "" when it (or its process or cgroup) is gone. */
  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (NoSuchFileException e) {
      return "";
    } catch (IOException e) {
      if (!Files.exists(file.getParent())) {
        return "";
      }
      throw new AssertionError("reading " + file + ": " + e, e);
    }
  }

  private static Optional<Path> find(Path root, String name) {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.find(root, 4, (p, a) -> a.isDirectory()
        && p.getFileName() != null && p.getFileName().toString().equals(name))) {
      return dirs.findFirst();
    } catch (IOException | java.io.UncheckedIOException e) {
      return Optional.empty();
    }
  }
}
