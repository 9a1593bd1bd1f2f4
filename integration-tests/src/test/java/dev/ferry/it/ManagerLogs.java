package dev.ferry.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The last lines of each program manager's log, attached to a failing test as a suppressed
 * exception (no stack trace of its own) so that the report shows what the managers saw.
 */
public final class ManagerLogs extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ManagerLogs(String text) {
    super(text, null, false, false);
  }

  static String tails(List<Path> logs, int lines) {
    StringBuilder text = new StringBuilder("program manager logs:");
    for (Path log : logs) {
      text.append("\n---- ").append(log).append(" (last ").append(lines).append(" lines) ----\n");
      text.append(tail(log, lines));
    }
    return text.toString();
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read: " + e + ")";
    }
  }
}
