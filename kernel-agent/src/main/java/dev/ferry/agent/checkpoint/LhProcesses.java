package dev.ferry.agent.checkpoint;

import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.ProcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every process of a logical host but its init, as a tree: live ones from the LH's cgroup,
 * zombies (not in cgroup.procs) among their parents' children. Ids are the LH's (the innermost
 * values of /proc/PID/status' NSpid, NSpgid, NSsid lines; a session or group led from outside
 * the LH reads 0 there). Ordered parents first, the program (the init's child whose end ends the
 * LH: the pid its command line names with --restore, else 2) first of all.
 */
final class LhProcesses {
    /** One process; {@code exitStatus} is a zombie's raw wait status. */
    record Member(int hostPid, int pid, int ppid, int pgid, int sid, boolean zombie, int exitStatus, String name) {}

    private LhProcesses() {}

    /** Refused (with the reason) when the LH has no program process left. */
    static List<Member> find(String lhId, LhCgroup cgroup, ProcFs proc) throws CaptureRefusedException, IOException {
        int init = -1;
        Map<Integer, Member> byHost = new LinkedHashMap<>();
        List<Integer> queue = new ArrayList<>();
        for (int host : cgroup.hostPids()) {
            Optional<ProcStatus> s = proc.status(host);
            if (s.isEmpty() || s.get().nsPids().length < 2) {
                continue;
            }
            if (s.get().innermostPid() == 1) {
                init = host;
            } else {
                queue.add(host);
            }
        }
        for (int i = 0; i < queue.size(); i++) {
            int host = queue.get(i);
            if (byHost.containsKey(host)) {
                continue;
            }
            Member m = member(host);
            if (m == null) {
                continue;   // ended meanwhile
            }
            byHost.put(host, m);
            if (!m.zombie()) {
                queue.addAll(children(host));
            }
        }
        int program = init < 0 ? 2 : programPid(init);
        List<Member> live = byHost.values().stream().filter(m -> !(m.zombie() && m.ppid() == 1)).toList();   // the init reaps those
        if (live.stream().noneMatch(m -> m.pid() == program && !m.zombie())) {
            throw new CaptureRefusedException(List.of("cannot migrate " + lhId + ": it has no program process (it has ended)"));
        }
        return parentsFirst(live, program);
    }

    /**
     * What a restore cannot recreate yet, as blockers. A restore (ferry-init --restore-tree)
     * creates each process from its parent, where it inherits the parent's session and process
     * group of that moment; a session or group leader takes its own first; joining a group led by
     * another process is done afterwards by an injected setpgid. So: a process must be in its
     * parent's session or lead its own (the init's children: the LH's session); a group must be
     * led by a process of the LH in the same session (a zombie leader counts), or be what the
     * process inherits; a zombie cannot join a group afterwards; processes sharing their memory
     * (vfork) cannot be captured.
     */
    static List<String> blockers(List<Member> members, String lhId) {
        List<String> out = new ArrayList<>();
        Map<Integer, Member> byPid = new HashMap<>();
        members.forEach(m -> byPid.put(m.pid(), m));
        Map<Integer, Integer> bornSession = new HashMap<>(), bornGroup = new HashMap<>();
        bornSession.put(1, 0);
        bornGroup.put(1, 0);
        for (Member m : members) {   // parents first
            boolean leadsSession = m.sid() == m.pid();
            bornSession.put(m.pid(), leadsSession ? m.pid() : bornSession.getOrDefault(m.ppid(), -1));
            bornGroup.put(m.pid(), leadsSession || m.pgid() == m.pid() ? m.pid() : bornGroup.getOrDefault(m.ppid(), -1));
            String who = "cannot migrate " + lhId + "." + m.pid() + " (" + m.name() + ")";
            if (m.sid() != bornSession.get(m.pid())) {
                out.add(who + ": its session " + m.sid() + " is neither its parent's nor its own (its leader has ended)");
                continue;
            }
            Member leader = byPid.get(m.pgid());
            boolean inherited = m.pgid() == bornGroup.get(m.pid());
            if (!inherited && (m.zombie() || m.pgid() == 0 || leader == null || leader.pgid() != m.pgid()
                    || leader.sid() != m.sid())) {
                out.add(who + ": its process group " + m.pgid() + (leader == null ? " has no leader in the logical host any more"
                        : " cannot be rejoined after a restart") + " (not supported yet)");
            }
        }
        for (int i = 0; i < members.size(); i++) {
            for (int j = i + 1; j < members.size(); j++) {
                Member a = members.get(i), b = members.get(j);
                if (!a.zombie() && !b.zombie() && Kcmp.sameMemory(a.hostPid(), b.hostPid())) {
                    out.add("cannot migrate " + lhId + "." + b.pid() + " (" + b.name() + "): it shares its memory with "
                            + a.pid() + " (" + a.name() + "; vfork), which cannot be carried");
                }
            }
        }
        return out;
    }

    /** The ids of {@code hostPid} as its LH sees them, or null when it is gone. */
    private static Member member(int hostPid) throws IOException {
        Path dir = Path.of("/proc", Integer.toString(hostPid));
        String status;
        String stat;
        try {
            status = Files.readString(dir.resolve("status"));
            stat = Files.readString(dir.resolve("stat")).strip();
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        String name = "";
        char state = '?';
        int pid = -1, pgid = -1, sid = -1, ppidHost = 0;
        for (String line : status.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String v = line.substring(colon + 1).strip();
            switch (line.substring(0, colon)) {
                case "Name" -> name = v;
                case "State" -> state = v.isEmpty() ? '?' : v.charAt(0);
                case "PPid" -> ppidHost = Integer.parseInt(v);
                case "NSpid" -> pid = innermost(v);
                case "NSpgid" -> pgid = innermost(v);
                case "NSsid" -> sid = innermost(v);
                default -> { }
            }
        }
        int ppid = ppidHost == 0 ? 0 : lhPid(ppidHost);
        int exit = Integer.parseInt(stat.substring(stat.lastIndexOf(' ') + 1));   // exit_code: a zombie's wait status
        return new Member(hostPid, pid, ppid, pgid, sid, state == 'Z', exit, name);
    }

    private static int lhPid(int hostPid) throws IOException {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(hostPid), "status"))) {
                if (line.startsWith("NSpid:")) {
                    return innermost(line.substring(6).strip());
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // gone
        }
        return 0;
    }

    private static int innermost(String values) {
        String[] v = values.split("\\s+");
        return Integer.parseInt(v[v.length - 1]);
    }

    /** The children of every thread of {@code hostPid} (a child belongs to the thread that made it). */
    static List<Integer> children(int hostPid) throws IOException {
        List<Integer> out = new ArrayList<>();
        Path tasks = Path.of("/proc", Integer.toString(hostPid), "task");
        try (var list = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) list::iterator) {
                try {
                    for (String c : Files.readString(task.resolve("children")).split("\\s+")) {
                        if (!c.isBlank()) {
                            out.add(Integer.parseInt(c));
                        }
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // the thread ended
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // the process ended
        }
        return out;
    }

    /** The pid the init waits for: its --restore argument, else 2 (ferry-init.c). */
    private static int programPid(int initHostPid) throws IOException {
        String[] args = Files.readString(Path.of("/proc", Integer.toString(initHostPid), "cmdline")).split("\0");
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--restore")) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return 2;
    }

    /** Breadth first from the init's children, the program first; each level in pid order. */
    private static List<Member> parentsFirst(List<Member> members, int program) {
        Map<Integer, List<Member>> children = new HashMap<>();
        for (Member m : members) {
            children.computeIfAbsent(m.ppid(), k -> new ArrayList<>()).add(m);
        }
        children.values().forEach(l -> l.sort(Comparator.comparingInt(Member::pid)));
        List<Member> out = new ArrayList<>();
        List<Member> roots = new ArrayList<>(children.getOrDefault(1, List.of()));
        roots.sort(Comparator.comparingInt((Member m) -> m.pid() == program ? 0 : 1).thenComparingInt(Member::pid));
        out.addAll(roots);
        for (int i = 0; i < out.size(); i++) {
            out.addAll(children.getOrDefault(out.get(i).pid(), List.of()));
        }
        return out;
    }
}
