package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.FileDescriptor;
import dev.ferry.proto.v1.PipeImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The open files of every process of a logical host, judged together.
 *
 * <p>Pipes: one this JVM holds too is one of the LH's stdio pipes (the program manager holds
 * their other ends): its read end is stdin; a write end is stdout or stderr as the lowest fd
 * (1 or 2) any process holds it at says. Every other pipe is the LH's own, recreated once
 * whichever processes hold its ends, unless a process outside the LH holds the end the LH does
 * not (looked for in /proc only then).
 *
 * <p>Memfds are shared memory objects ({@link SharedObjects}), carried once.
 *
 * <p>Open file descriptions: fds made by dup or inherited by fork share one (one offset, one
 * set of status flags); kcmp(KCMP_FILE) tells, and such fds get one {@code file_id} so the
 * rebuild makes the description once.
 */
final class LhFiles {
    private LhFiles() {}

    /** The fds of every live process of {@code members}, by pid in the LH; what cannot move goes to {@code blockers}. */
    static Map<Integer, List<FileDescriptor>> inspect(List<LhProcesses.Member> members, String lhId, List<String> blockers,
                                                      SharedObjects shared) throws IOException {
        Map<LhProcesses.Member, List<FdTable.Open>> open = new LinkedHashMap<>();
        for (LhProcesses.Member m : members) {
            if (!m.zombie()) {
                try {
                    open.put(m, FdTable.list(proc(m.hostPid())));
                } catch (java.nio.file.NoSuchFileException e) {
                    // ended meanwhile: the capture will find out
                }
            }
        }
        Set<Long> stdio = pipesHeldHere();
        Map<Long, boolean[]> ends = new HashMap<>();     // inode -> {read end held, write end held} in the LH
        Map<Long, Integer> lowFd = new HashMap<>();      // inode -> lowest fd <= 2 a write end is held at
        for (List<FdTable.Open> fds : open.values()) {
            for (FdTable.Open o : fds) {
                if (o.pipe()) {
                    ends.computeIfAbsent(o.pipeInode(), k -> new boolean[2])[o.writeOnly() ? 1 : 0] = true;
                    if (o.writeOnly() && o.fd() <= 2) {
                        lowFd.merge(o.pipeInode(), o.fd(), Math::min);
                    }
                }
            }
        }
        Set<Long> widowed = new HashSet<>();
        ends.forEach((ino, e) -> {
            if (!stdio.contains(ino) && !(e[0] && e[1])) {
                widowed.add(ino);
            }
        });
        Set<Integer> lhHosts = new HashSet<>();
        open.keySet().forEach(m -> lhHosts.add(m.hostPid()));
        Map<Long, Integer> outside = PipeHolders.outside(widowed, lhHosts);

        Map<Integer, List<FileDescriptor.Builder>> out = new LinkedHashMap<>();
        for (Map.Entry<LhProcesses.Member, List<FdTable.Open>> e : open.entrySet()) {
            LhProcesses.Member m = e.getKey();
            String who = "cannot migrate " + lhId + "." + m.pid() + " (" + m.name() + ")";
            List<FileDescriptor.Builder> fds = new ArrayList<>();
            for (FdTable.Open o : e.getValue()) {
                FileDescriptor.Builder b = FileDescriptor.newBuilder().setFd(o.fd()).setFlags(o.flags()).setPosition(o.position());
                String blocker;
                if (o.target().startsWith("/memfd:")) {
                    b.setKind(FileDescriptor.Kind.SHARED_MEMORY).setShmId(shared.fd(m.hostPid(), o.fd(), o.target()));
                    blocker = null;
                } else if (!o.pipe()) {
                    blocker = FdTable.classify(proc(m.hostPid()), o, b);
                } else if (stdio.contains(o.pipeInode())) {
                    int slot = o.writeOnly() ? lowFd.getOrDefault(o.pipeInode(), -1) : 0;
                    blocker = slot < 0 ? "an end of one of the logical host's output pipes (" + o.target()
                            + ") that no process holds at fd 1 or 2, so whether it is stdout or stderr cannot be told" : null;
                    b.setKind(FileDescriptor.Kind.STDIO_PIPE).setStdioSlot(Math.max(slot, 0));
                } else if (outside.containsKey(o.pipeInode())) {
                    blocker = "the " + (o.writeOnly() ? "write" : "read") + " end of a pipe (" + o.target()
                            + ") whose other end is held by process " + outside.get(o.pipeInode()) + ", outside the logical host";
                } else {
                    b.setKind(FileDescriptor.Kind.PIPE).setPipeId((int) o.pipeInode()).setWriteEnd(o.writeOnly());
                    blocker = null;
                }
                if (blocker != null && !Files.exists(proc(m.hostPid()).resolve("fd").resolve(Integer.toString(o.fd())),
                        java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;   // closed since it was listed (the processes run, but at the freeze)
                }
                if (blocker != null) {
                    blockers.add(who + ": fd " + o.fd() + " is " + blocker);
                } else {
                    fds.add(b);
                }
            }
            out.put(m.pid(), fds);
        }
        shareDescriptions(open, out);
        Map<Integer, List<FileDescriptor>> built = new LinkedHashMap<>();
        out.forEach((pid, fds) -> built.put(pid, fds.stream().map(FileDescriptor.Builder::build).toList()));
        return built;
    }

    /**
     * Gives the fds that are one open file description one {@code file_id}. Candidates are fds
     * with the same target; each is compared (kcmp) with one fd of every description found so far.
     */
    private static void shareDescriptions(Map<LhProcesses.Member, List<FdTable.Open>> open,
                                          Map<Integer, List<FileDescriptor.Builder>> out) {
        record Held(LhProcesses.Member member, FdTable.Open fd, FileDescriptor.Builder built) {}
        Map<String, List<Held>> byTarget = new TreeMap<>();
        for (Map.Entry<LhProcesses.Member, List<FdTable.Open>> e : open.entrySet()) {
            Map<Integer, FileDescriptor.Builder> built = new HashMap<>();
            out.get(e.getKey().pid()).forEach(b -> built.put(b.getFd(), b));
            for (FdTable.Open o : e.getValue()) {
                if (built.containsKey(o.fd())) {
                    byTarget.computeIfAbsent(o.target(), t -> new ArrayList<>()).add(new Held(e.getKey(), o, built.get(o.fd())));
                }
            }
        }
        int next = 1;
        for (List<Held> same : byTarget.values()) {
            if (same.size() < 2) {
                continue;
            }
            List<List<Held>> descriptions = new ArrayList<>();
            for (Held h : same) {
                List<Held> found = null;
                for (List<Held> d : descriptions) {
                    Held first = d.get(0);
                    if (Kcmp.sameFile(first.member().hostPid(), first.fd().fd(), h.member().hostPid(), h.fd().fd())) {
                        found = d;
                        break;
                    }
                }
                if (found == null) {
                    descriptions.add(found = new ArrayList<>());
                }
                found.add(h);
            }
            for (List<Held> d : descriptions) {
                if (d.size() > 1) {
                    int id = next++;
                    d.forEach(h -> h.built().setFileId(id));
                }
            }
        }
    }

    /**
     * The LH's own pipes, each once with its unread bytes (peeked through a read end, while
     * the processes are stopped) and capacity. {@code hostPids}: host pid by pid in the LH.
     */
    static List<PipeImage> pipes(Map<Integer, List<FileDescriptor>> fds, Map<Integer, Integer> hostPids) throws IOException {
        Map<Integer, PipeImage> pipes = new TreeMap<>();
        for (boolean readEnds : new boolean[] {true, false}) {   // a read end shows the bytes; a write end only the capacity
            for (Map.Entry<Integer, List<FileDescriptor>> e : fds.entrySet()) {
                for (FileDescriptor f : e.getValue()) {
                    if (f.getKind() == FileDescriptor.Kind.PIPE && f.getWriteEnd() != readEnds && !pipes.containsKey(f.getPipeId())) {
                        PipeContent.Snapshot s = PipeContent.peek(hostPids.get(e.getKey()), f.getFd(), readEnds);
                        pipes.put(f.getPipeId(), PipeImage.newBuilder().setId(f.getPipeId())
                                .setBuffered(com.google.protobuf.ByteString.copyFrom(s.unread())).setCapacity(s.capacity()).build());
                    }
                }
            }
        }
        return new ArrayList<>(pipes.values());
    }

    /** The bytes still unread in the LH's stdin pipe (through any process' read end of it). */
    static byte[] pendingStdin(Map<Integer, List<FileDescriptor>> fds, Map<Integer, Integer> hostPids) throws IOException {
        for (Map.Entry<Integer, List<FileDescriptor>> e : fds.entrySet()) {
            for (FileDescriptor f : e.getValue()) {
                if (f.getKind() == FileDescriptor.Kind.STDIO_PIPE && f.getStdioSlot() == 0) {
                    return PipeContent.peek(hostPids.get(e.getKey()), f.getFd(), true).unread();
                }
            }
        }
        return new byte[0];
    }

    /** Inodes of the pipes this JVM holds an end of: the LH's stdio pipes among them. */
    private static Set<Long> pipesHeldHere() throws IOException {
        Set<Long> out = new HashSet<>();
        try (var dir = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) dir::iterator) {
                try {
                    String t = Files.readSymbolicLink(p).toString();
                    if (t.startsWith("pipe:[")) {
                        out.add(Long.parseLong(t.substring(6, t.length() - 1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // another thread closed it
                }
            }
        }
        return out;
    }

    private static Path proc(int hostPid) {
        return Path.of("/proc", Integer.toString(hostPid));
    }
}
