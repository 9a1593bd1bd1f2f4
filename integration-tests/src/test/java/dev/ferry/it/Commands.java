package dev.ferry.it;

import java.util.ArrayList;
import java.util.List;

/** Builds the command lines the tests type: {@code run PROG ARGS... [@ HOST]}. */
final class Commands {
  private Commands() {}

  /**
   * {@code run} + program + the destination words: {@code List.of("@", "h2")}, {@code
   * List.of("@any")}, or none for the local host.
   */
  static List<String> run(List<String> destination, String... program) {
    List<String> command = new ArrayList<>();
    command.add("run");
    command.addAll(List.of(program));
    command.addAll(destination);
    return command;
  }

  static List<String> run(List<String> destination, List<String> program) {
    return run(destination, program.toArray(String[]::new));
  }

  static List<String> at(String host) {
    return List.of("@", host);
  }

  /** {@code sh -c SCRIPT sh ARGS...}: a script with its own positional parameters. */
  static List<String> sh(String script, String... args) {
    List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", script, "sh"));
    command.addAll(List.of(args));
    return command;
  }
}
