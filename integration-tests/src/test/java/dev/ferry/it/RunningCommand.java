package dev.ferry.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command that is running: send it signals, read what it wrote so far, wait for it, kill it.
 * Closing it kills it (and its descendants) if it is still running, so a failing test leaves no
 * process behind when it uses try-with-resources.
 */
public final class RunningCommand implements AutoCloseable {
  private static final Duration DRAIN_LIMIT = Duration.ofSeconds(10);

  private final List<String> command;
  private final Process process;
  private final Duration timeout;
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private final Thread stdoutPump;
  private final Thread stderrPump;

  private RunningCommand(List<String> command, Process process, Duration timeout) {
    this.command = List.copyOf(command);
    this.process = process;
    this.timeout = timeout;
    this.stdoutPump = pump("stdout", process.getInputStream(), stdout);
    this.stderrPump = pump("stderr", process.getErrorStream(), stderr);
  }

  /** Starts {@code command} directly (no shell) with the given stdin, directory and env. */
  public static RunningCommand start(List<String> command, ExecOptions options) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(options.env());
    if (options.directory() != null) {
      builder.directory(options.directory().toFile());
    }
    if (options.stdinFile() != null) {
      builder.redirectInput(options.stdinFile().toFile());
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    RunningCommand running = new RunningCommand(command, process, options.timeout());
    if (options.stdinFile() == null) {
      feed(process, options.stdinBytes());
    }
    return running;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Sends a signal by name ("INT", "TERM", "TSTP", "CONT", ...) to the command itself. */
  public void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(pid()))
          .redirectErrorStream(true).start();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (kill.waitFor() != 0) {
        throw new AssertionError("kill -s " + name + " " + pid() + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  public byte[] stdoutSoFar() {
    synchronized (stdout) {
      return stdout.toByteArray();
    }
  }

  public byte[] stderrSoFar() {
    synchronized (stderr) {
      return stderr.toByteArray();
    }
  }

  /** Waits until stdout contains {@code text}; fails if the command ends or time runs out. */
  public void awaitStdout(String text, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!new String(stdoutSoFar(), StandardCharsets.UTF_8).contains(text)) {
      if (!process.isAlive() && !stdoutPump.isAlive()) {
        throw new AssertionError("command ended before printing '" + text + "': " + describe());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no '" + text + "' on stdout within " + limit + ": " + describe());
      }
      sleep(20);
    }
  }

  /** Waits for the end within the timeout given at start; kills the command and fails otherwise. */
  public Result waitFor() {
    return waitFor(timeout);
  }

  public Result waitFor(Duration limit) {
    try {
      if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        String state = describe();
        kill();
        throw new AssertionError("timed out after " + limit + ": " + state);
      }
      // A background descendant may keep the pipes open; do not wait for it forever.
      stdoutPump.join(DRAIN_LIMIT.toMillis());
      stderrPump.join(DRAIN_LIMIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
      throw new AssertionError("interrupted while waiting for " + command, e);
    }
    return new Result(process.exitValue(), stdoutSoFar(), stderrSoFar());
  }

  /** SIGKILL to the command and every descendant it still has. */
  public void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  public String describe() {
    String exit = process.isAlive() ? "still running" : "exit " + process.exitValue();
    return command + " (" + exit + ")\n--- stdout so far ---\n" + Result.excerpt(stdoutSoFar())
        + "\n--- stderr so far ---\n" + Result.excerpt(stderrSoFar());
  }

  private static void feed(Process process, byte[] bytes) {
    Thread writer = new Thread(() -> {
      try (OutputStream in = process.getOutputStream()) {
        in.write(bytes);
      } catch (IOException e) {
        // The command did not read all of its stdin (or ended): that is its business.
      }
    }, "stdin-writer-" + process.pid());
    writer.setDaemon(true);
    writer.start();
  }

  private static Thread pump(String name, InputStream from, ByteArrayOutputStream to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[65536];
      try (from) {
        for (int n; (n = from.read(buffer)) >= 0; ) {
          synchronized (to) {
            to.write(buffer, 0, n);
          }
        }
      } catch (IOException e) {
        // The process was killed while we read: keep what arrived.
      }
    }, name + "-pump");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
