package dev.ferry.it;

import java.nio.charset.StandardCharsets;

/** What a finished command left behind: its exit code and every byte it wrote. */
public record Result(int exit, byte[] stdout, byte[] stderr) {

  public String out() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  public String err() {
    return new String(stderr, StandardCharsets.UTF_8);
  }

  /** Short enough for an assertion message, long enough to see what went wrong. */
  @Override
  public String toString() {
    return "exit " + exit + "\n--- stdout (" + stdout.length + " bytes) ---\n" + excerpt(stdout)
        + "\n--- stderr (" + stderr.length + " bytes) ---\n" + excerpt(stderr);
  }

  static String excerpt(byte[] bytes) {
    int limit = 2000;
    String text = new String(bytes, 0, Math.min(bytes.length, limit), StandardCharsets.UTF_8);
    return bytes.length > limit ? text + "... (" + (bytes.length - limit) + " more bytes)" : text;
  }
}
