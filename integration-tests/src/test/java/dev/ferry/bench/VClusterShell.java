package dev.ferry.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark outside the cluster's namespaces types: {@code vcluster exec HOST ...},
 * {@code lhosts --json}, and keys into a host's owner terminal (tmux socket "ferry").
 */
final class VClusterShell {
  private static final long COMMAND_TIMEOUT_S = 60;

  private final Path vcluster;
  private final String cluster;

  VClusterShell(Path vcluster, String cluster) {
    this.vcluster = vcluster;
    this.cluster = cluster;
  }

  /** Starts {@code vcluster exec HOST COMMAND} with stdout and stderr into files. */
  Process start(String host, List<String> command, File out, File err) throws IOException {
    List<String> full = new ArrayList<>(List.of(vcluster.toString(), "exec", host));
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full).redirectOutput(out).redirectError(err)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("FERRY_VCLUSTER", cluster);
    return pb.start();
  }

  /** Runs {@code vcluster exec HOST COMMAND}; returns its stdout, failing unless it exits 0. */
  String exec(String host, String... command) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of(vcluster.toString(), "exec", host));
    full.addAll(List.of(command));
    return run(full);
  }

  /** Every line of {@code lhosts --json} (or {@code lhosts --hosts --json}) typed on {@code host}. */
  List<JsonObject> json(String host, String... lhostsArgs) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("lhosts"));
    command.addAll(List.of(lhostsArgs));
    command.add("--json");
    List<JsonObject> out = new ArrayList<>();
    for (String line : exec(host, command.toArray(String[]::new)).split("\n")) {
      if (!line.isBlank()) {
        out.add(JsonParser.parseString(line).getAsJsonObject());
      }
    }
    return out;
  }

  /** Keys into {@code host}'s owner terminal, as its owner would type them. */
  void type(String host, String... keys) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", "ferry", "send-keys", "-t", "=" + cluster + "-" + host + ":"));
    command.addAll(List.of(keys));
    run(command);
  }

  Path log(String host) {
    return Path.of("/run", cluster + "-vcluster", host, "pm.log");
  }

  private String run(List<String> command) throws IOException, InterruptedException {
    File err = File.createTempFile("vcluster-shell", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(err)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      pb.environment().put("FERRY_VCLUSTER", cluster);
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command + " did not finish in " + COMMAND_TIMEOUT_S + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(command + " exited " + p.exitValue() + ": "
            + java.nio.file.Files.readString(err.toPath()));
      }
      return new String(out, StandardCharsets.UTF_8);
    } finally {
      err.delete();
    }
  }
}
