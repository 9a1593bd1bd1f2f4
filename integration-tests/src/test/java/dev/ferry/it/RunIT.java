package dev.ferry.it;

import static dev.ferry.it.Commands.at;
import static dev.ferry.it.Commands.run;
import static dev.ferry.it.Commands.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code run} with real programs, compared byte for byte (stdout, stderr, exit code) with the
 * same program run without Ferry. Commands are typed on h1.
 */
class RunIT {
  @RegisterExtension
  static VCluster cluster = VCluster.hosts(3);

  @TempDir
  static Path scratch;

  static Stream<Arguments> destinations() {
    return Stream.of(
        Arguments.of("@ h2", at("h2")),
        Arguments.of("@ '*'", at("*")),
        Arguments.of("@any", List.of("@any")),
        Arguments.of("@h3", List.of("@h3")),
        Arguments.of("local", List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("destinations")
  void shellOutputExitCodeAndPidTwo(String label, List<String> destination) {
    String script = "echo $$; printf 'out\\n\\ttabbed \\\\ \\001\\377 end'; printf 'err\\n' >&2;"
        + " exit 3";
    Result reference = LocalRun.run(sh(script));
    Result remote = cluster.exec("h1", run(destination, sh(script)));
    String referenceOut = reference.out();
    byte[] expectedOut = concat("2\n".getBytes(StandardCharsets.US_ASCII),
        tail(reference.stdout(), referenceOut.indexOf('\n') + 1));
    LocalRun.assertSameOutput(new Result(3, expectedOut, reference.stderr()), remote);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("destinations")
  void bcComputesPiFromStdin(String label, List<String> destination) {
    byte[] input = "scale=200; 4*a(1)\n".getBytes(StandardCharsets.US_ASCII);
    Result reference = LocalRun.run(List.of("bc", "-l"), ExecOptions.defaults().stdin(input));
    assertEquals(0, reference.exit(), reference::toString);
    LocalRun.assertSameOutput(reference, cluster.exec("h1", run(destination, "bc", "-l"), input));
  }

  @Test
  void pythonBinaryOutputBothStreamsAndExitStatus() {
    String program = String.join("\n",
        "import sys",
        "sys.stdout.buffer.write(bytes(range(256)) * 4000)",
        "sys.stdout.flush()",
        "sys.stderr.write('warning: ' + 'x' * 70000 + '\\n')",
        "sys.exit(5)");
    List<String> python = List.of("/usr/bin/python3", "-c", program);
    Result reference = LocalRun.run(python);
    assertEquals(5, reference.exit());
    for (List<String> destination : List.of(List.of("@any"), at("h3"))) {
      LocalRun.assertSameOutput(reference, cluster.exec("h1", run(destination, python)));
    }
  }

  @Test
  void sha256sumOfFiftyMegabytesOfStdin() throws IOException, NoSuchAlgorithmException {
    Path data = scratch.resolve("fifty-megabytes");
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Random random = new Random(20240617);
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(data)) {
      for (int i = 0; i < 50; i++) {
        random.nextBytes(block);
        sha.update(block);
        out.write(block);
      }
    }
    String expected = HexFormat.of().formatHex(sha.digest()) + "  -\n";
    ExecOptions stdin = ExecOptions.defaults().stdinFile(data).timeout(Duration.ofSeconds(120));
    Result reference = LocalRun.run(List.of("sha256sum"), stdin);
    assertEquals(expected, reference.out());
    for (List<String> destination : List.of(List.of("@h3"), List.<String>of())) {
      LocalRun.assertSameOutput(reference,
          cluster.exec("h1", run(destination, "sha256sum"), stdin));
    }
  }

  @Test
  void exitCodesForFailuresAndSignals() throws IOException {
    Path notExecutable = scratch.resolve("not-executable");
    Files.writeString(notExecutable, "#!/bin/sh\necho should not run\n");
    Files.setPosixFilePermissions(notExecutable, PosixFilePermissions.fromString("rw-r--r--"));

    Result notFound = cluster.exec("h1", run(at("h2"), "/nonexistent/ferry-it-program"));
    assertEquals(127, notFound.exit(), notFound::toString);
    assertFalse(notFound.err().isEmpty(), () -> "no message says what was missing: " + notFound);
    Result denied = cluster.exec("h1", run(at("h2"), notExecutable.toString()));
    assertEquals(126, denied.exit(), denied::toString);
    assertEquals("", denied.out(), denied::toString);
    assertFalse(denied.err().isEmpty(), () -> "no message says what was refused: " + denied);
    Result terminated = cluster.exec("h1", run(at("h3"), sh("kill -TERM $$; sleep 5")));
    assertEquals(143, terminated.exit(), terminated::toString);
    Result killed = cluster.exec("h1", run(at("*"), sh("kill -KILL $$; sleep 5")));
    assertEquals(137, killed.exit(), killed::toString);
  }

  @Test
  void environmentWorkingDirectoryAndUmaskArePreserved() throws IOException {
    Path dir = Files.createDirectories(scratch.resolve("work dir"));
    String show = "printf '[%s]\\n' \"$FERRY_IT_A\" \"$FERRY_IT_B\" \"$HOME\" \"$PATH\""
        + " \"$FERRY_SOCKET\" \"$(pwd)\" \"$(umask)\"";
    ExecOptions options = ExecOptions.defaults().directory(dir)
        .env("FERRY_IT_A", "two words").env("FERRY_IT_B", "x=y\nsecond line");
    String withUmask = "umask 027; exec \"$@\"";
    Result reference = cluster.exec("h1", sh(withUmask, "/bin/sh", "-c", show), options);
    assertEquals(0, reference.exit(), reference::toString);
    for (List<String> destination : List.of(at("h2"), List.<String>of())) {
      List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", withUmask, "sh"));
      command.addAll(run(destination, "/bin/sh", "-c", show));
      LocalRun.assertSameOutput(reference, cluster.exec("h1", command, options));
    }
  }

  @Test
  void programRunsAsTheCallersUser() {
    String ids = "id -u; id -g; id -G";
    Result asRoot = cluster.exec("h1", run(at("h2"), sh(ids)));
    LocalRun.assertSameOutput(new Result(0, bytes("0\n0\n0\n"), new byte[0]), asRoot);
    Result reference = cluster.exec("h1", VCluster.asNobody(sh(ids)));
    LocalRun.assertSameOutput(new Result(0, bytes("65534\n65534\n65534\n"), new byte[0]),
        reference);
    for (List<String> destination : List.of(at("h3"), List.<String>of())) {
      LocalRun.assertSameOutput(reference,
          cluster.exec("h1", VCluster.asNobody(run(destination, sh(ids)))));
    }
  }

  @Test
  void hundredArgumentsOfEightKilobytesArriveIntact() {
    List<String> args = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      args.add(i + ":" + Character.toString('a' + i % 26).repeat(8 * 1024) + " \t'\"$x");
    }
    String script = "echo $#; printf '%s\\n' \"$@\" | sha256sum";
    Result reference = cluster.exec("h1", sh(script, args.toArray(String[]::new)));
    assertEquals(0, reference.exit(), reference::toString);
    LocalRun.assertSameOutput(reference,
        cluster.exec("h1", run(at("h2"), sh(script, args.toArray(String[]::new)))));
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] tail(byte[] bytes, int from) {
    byte[] rest = new byte[bytes.length - from];
    System.arraycopy(bytes, from, rest, 0, rest.length);
    return rest;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = new byte[a.length + b.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
