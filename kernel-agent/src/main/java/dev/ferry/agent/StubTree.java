package dev.ferry.agent;

import dev.ferry.proto.v1.ProcessImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * The process tree a restore recreates with {@code ferry-init --restore-tree}: the argument
 * naming every process (parents first) and, once the init has made them, the wait until each
 * stub sits at its pid in pause() (a zombie: has ended), with the host pids they got. Zombies do
 * not appear in cgroup.procs, so they are found among their parents' children.
 */
final class StubTree {
    private static final long WAIT_NANOS = 5_000_000_000L;

    private StubTree() {}

    /** "PID:PPID:PGID:SID:STATE,..." in the order of {@code processes} (parents first). */
    static String argument(List<ProcessImage> processes) {
        StringJoiner out = new StringJoiner(",");
        for (ProcessImage p : processes) {
            out.add(p.getPid() + ":" + p.getPpid() + ":" + p.getPgid() + ":" + p.getSid() + ":"
                    + (p.getZombie() ? "z" + p.getExitStatus() : "r"));
        }
        return out.toString();
    }

    /**
     * The host pid of every process of {@code processes} by its pid in the LH, once every stub
     * is ready; throws when one is missing after 5 s (the launcher's status tells why).
     */
    static Map<Integer, Integer> await(LhCgroup cgroup, ProcFs proc, List<ProcessImage> processes) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        for (;;) {
            Map<Integer, Integer> found = find(cgroup, proc, processes);
            if (found.size() == processes.size()) {
                return found;
            }
            if (System.nanoTime() - deadline > 0) {
                List<Integer> missing = new ArrayList<>();
                processes.forEach(p -> {
                    if (!found.containsKey(p.getPid())) {
                        missing.add(p.getPid());
                    }
                });
                throw new IOException("the restore stubs " + missing + " did not come up");
            }
            CgroupFiles.sleep(1);
        }
    }

    /** The ready ones: live stubs waiting in pause(), zombies that have ended. */
    private static Map<Integer, Integer> find(LhCgroup cgroup, ProcFs proc, List<ProcessImage> processes) {
        Map<Integer, ProcessImage> wanted = new HashMap<>();
        processes.forEach(p -> wanted.put(p.getPid(), p));
        Map<Integer, Integer> found = new HashMap<>();
        List<Integer> hostPids = new ArrayList<>(cgroup.hostPids());
        for (int i = 0; i < hostPids.size(); i++) {
            int host = hostPids.get(i);
            Optional<ProcStatus> s = proc.status(host);
            if (s.isEmpty() || s.get().nsPids().length < 2) {
                continue;
            }
            ProcessImage p = wanted.get(s.get().innermostPid());
            if (p == null || found.containsKey(p.getPid())) {
                continue;
            }
            boolean ready = p.getZombie() ? s.get().state() == 'Z' : inPause(host);
            if (ready) {
                found.put(p.getPid(), host);
            }
            if (!p.getZombie()) {
                hostPids.addAll(children(host));   // zombies are not in cgroup.procs
            }
        }
        return found;
    }

    private static boolean inPause(int hostPid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(hostPid), "syscall")).startsWith("34 ");
        } catch (IOException e) {
            return false;
        }
    }

    private static List<Integer> children(int hostPid) {
        List<Integer> out = new ArrayList<>();
        try {
            for (String c : Files.readString(Path.of("/proc", Integer.toString(hostPid), "task", Integer.toString(hostPid),
                    "children")).split("\\s+")) {
                if (!c.isBlank()) {
                    out.add(Integer.parseInt(c));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return out;
    }
}
