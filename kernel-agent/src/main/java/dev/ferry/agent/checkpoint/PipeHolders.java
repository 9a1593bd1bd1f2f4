package dev.ferry.agent.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Who outside a logical host holds an end of some of its pipes: every process' fds on this
 * host are looked at, so this is asked only about pipes an end of which no process of the LH
 * holds (most such pipes simply have that end closed).
 */
final class PipeHolders {
    private PipeHolders() {}

    /** For each of {@code inodes} held by a process outside {@code lhHostPids} (and not this JVM), one such host pid. */
    static Map<Long, Integer> outside(Set<Long> inodes, Set<Integer> lhHostPids) throws IOException {
        Map<Long, Integer> found = new HashMap<>();
        if (inodes.isEmpty()) {
            return found;
        }
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                int pid = Integer.parseInt(p.getFileName().toString());
                if (pid == self || lhHostPids.contains(pid)) {
                    continue;
                }
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(p.resolve("fd"))) {
                    for (Path fd : fds) {
                        String t = Files.readSymbolicLink(fd).toString();
                        if (t.startsWith("pipe:[")) {
                            long ino = Long.parseLong(t.substring(6, t.length() - 1));
                            if (inodes.contains(ino)) {
                                found.putIfAbsent(ino, pid);
                            }
                        }
                    }
                } catch (IOException goneOrKernelThread) {
                    // ended meanwhile, or no fds to read
                }
            }
        }
        return found;
    }
}
