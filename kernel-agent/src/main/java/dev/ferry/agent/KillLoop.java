package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Kills every process of a cgroup where the kernel has no cgroup.kill: freeze so nothing can
 * fork between listing and killing, SIGKILL each pid, thaw so the frozen processes can die
 * (v1 frozen tasks do not act on SIGKILL until thawed), and repeat until it is empty.
 */
final class KillLoop {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private KillLoop() {}

    static void run(LhCgroup cgroup, Path where) throws IOException {
        boolean empty = CgroupFiles.await(TIMEOUT, () -> {
            if (cgroup.hostPids().isEmpty()) {
                return true;
            }
            cgroup.freeze();
            for (int pid : cgroup.hostPids()) {
                Signals.kill(pid, Signals.SIGKILL);
            }
            cgroup.thaw();
            return false;
        });
        if (!empty) {
            throw new IOException("processes survive in " + where + ": " + cgroup.hostPids());
        }
    }
}
