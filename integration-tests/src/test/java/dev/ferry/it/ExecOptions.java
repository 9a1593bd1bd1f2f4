package dev.ferry.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a command: its stdin (bytes, a file, or nothing: immediate end of file), how long
 * it may take, its working directory and extra environment variables. Immutable; each {@code
 * with...} returns a copy.
 */
public final class ExecOptions {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private final byte[] stdin;
  private final Path stdinFile;
  private final Duration timeout;
  private final Path directory;
  private final Map<String, String> env;

  private ExecOptions(byte[] stdin, Path stdinFile, Duration timeout, Path directory,
      Map<String, String> env) {
    this.stdin = stdin;
    this.stdinFile = stdinFile;
    this.timeout = timeout;
    this.directory = directory;
    this.env = Map.copyOf(env);
  }

  public static ExecOptions defaults() {
    return new ExecOptions(new byte[0], null, DEFAULT_TIMEOUT, null, Map.of());
  }

  public ExecOptions stdin(byte[] bytes) {
    return new ExecOptions(bytes.clone(), null, timeout, directory, env);
  }

  public ExecOptions stdinFile(Path file) {
    return new ExecOptions(null, Objects.requireNonNull(file), timeout, directory, env);
  }

  public ExecOptions timeout(Duration limit) {
    return new ExecOptions(stdin, stdinFile, Objects.requireNonNull(limit), directory, env);
  }

  public ExecOptions directory(Path dir) {
    return new ExecOptions(stdin, stdinFile, timeout, Objects.requireNonNull(dir), env);
  }

  public ExecOptions env(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(env);
    more.put(name, value);
    return new ExecOptions(stdin, stdinFile, timeout, directory, more);
  }

  /** Bytes to write on stdin, or null when {@link #stdinFile()} is used. */
  byte[] stdinBytes() {
    return stdin;
  }

  Path stdinFile() {
    return stdinFile;
  }

  public Duration timeout() {
    return timeout;
  }

  Path directory() {
    return directory;
  }

  Map<String, String> env() {
    return env;
  }
}
