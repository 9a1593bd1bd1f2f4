package dev.ferry.cli;

import dev.ferry.proto.v1.ProgramSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Captures what a program started by {@code run} must inherit from the caller's shell:
 * environment (in the caller's order), working directory, umask and resource limits.
 *
 * <p>bin/run passes what the JVM would otherwise change in {@code FERRY_CALLER_*} variables:
 * {@code FERRY_CALLER_LIMITS} holds the shell's {@code /proc/PID/limits} (the JVM raises its own
 * open-files limit), and {@code FERRY_CALLER_ENV_NAME} holds a variable NAME the launcher had to
 * hide from the JVM (such as JAVA_TOOL_OPTIONS). None of them reaches the program.
 */
public final class CallerSpec {
    static final String PREFIX = "FERRY_CALLER_";
    static final String LIMITS = PREFIX + "LIMITS";
    static final String SAVED_ENV = PREFIX + "ENV_";

    private CallerSpec() {
    }

    /** Reads this process's environment, cwd, umask and limits from /proc. */
    public static ProgramSpec capture(List<String> argv) throws IOException {
        byte[] environ = Files.readAllBytes(Path.of("/proc/self/environ"));
        List<String> callerEnv = environment(environ);
        Map<String, String> env = System.getenv();
        String limits = env.get(LIMITS);
        if (limits == null || limits.isEmpty()) {
            limits = Files.readString(Path.of("/proc/self/limits"));
        }
        return ProgramSpec.newBuilder()
                .addAllArgv(argv)
                .addAllEnv(callerEnv)
                .setCwd(workingDirectory(env.get("PWD"), System.getProperty("user.dir")))
                .setUmask(umask(Files.readString(Path.of("/proc/self/status"))))
                .addAllRlimits(ProcLimits.parse(limits))
                .build();
    }

    /**
     * The caller's variables from NUL-separated {@code environ} bytes, in order, without
     * Ferry's own FERRY_CALLER_* variables and with the hidden ones put back.
     */
    public static List<String> environment(byte[] environ) {
        List<String> result = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= environ.length; i++) {
            if (i == environ.length || environ[i] == 0) {
                if (i > start) {
                    String entry = new String(environ, start, i - start, StandardCharsets.UTF_8);
                    if (entry.startsWith(SAVED_ENV)) {
                        result.add(entry.substring(SAVED_ENV.length()));
                    } else if (!entry.startsWith(PREFIX)) {
                        result.add(entry);
                    }
                }
                start = i + 1;
            }
        }
        return result;
    }

    /**
     * The shell's logical directory ($PWD, which keeps symbolic links) when it still names the
     * JVM's working directory, else the JVM's (physical) one.
     */
    public static String workingDirectory(String pwd, String userDir) {
        if (pwd != null && pwd.startsWith("/")) {
            try {
                if (Files.isSameFile(Path.of(pwd), Path.of(userDir))) {
                    return pwd;
                }
            } catch (IOException | RuntimeException e) {
                // a stale or odd $PWD: fall back to the JVM's own directory
            }
        }
        return userDir;
    }

    /** The "Umask:" field of /proc/PID/status (octal). */
    public static int umask(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Umask:")) {
                return Integer.parseInt(line.substring("Umask:".length()).trim(), 8);
            }
        }
        throw new IllegalArgumentException("no Umask line in /proc/self/status");
    }
}
