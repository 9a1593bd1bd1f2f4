package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.FileDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a process' open files from /proc/PID/fd and fdinfo and says which can be carried:
 * regular files, directories, stateless character devices ({@link Devices}), the pipes that
 * were the LH's stdio, and pipes private to the program (it holds both ends). Everything else
 * becomes a blocker.
 */
final class FdTable {
    private static final int O_ACCMODE = 3, O_WRONLY = 1;

    private FdTable() {}

    /** One fd before classification. */
    private record Open(int fd, String target, int flags, long position) {
        boolean writeOnly() {
            return (flags & O_ACCMODE) == O_WRONLY;
        }
    }

    static List<FileDescriptor> inspect(Path procPid, String who, List<String> blockers) throws IOException {
        Map<Integer, Open> open = new TreeMap<>();
        try (var dir = Files.list(procPid.resolve("fd"))) {
            for (Path p : (Iterable<Path>) dir::iterator) {
                int fd = Integer.parseInt(p.getFileName().toString());
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    open.put(fd, fdinfo(fd, target, Files.readString(procPid.resolve("fdinfo").resolve(Integer.toString(fd)))));
                } catch (IOException closedMeanwhile) {
                    // the fd was closed between list and readlink
                }
            }
        }
        Pipes pipes = new Pipes(open.values());
        List<FileDescriptor> out = new ArrayList<>();
        for (Open o : open.values()) {
            FileDescriptor.Builder b = FileDescriptor.newBuilder().setFd(o.fd()).setFlags(o.flags()).setPosition(o.position());
            String blocker = o.target().startsWith("pipe:") ? pipes.classify(o, b) : classify(procPid, o, b);
            if (blocker != null) {
                blockers.add(who + ": fd " + o.fd() + " is " + blocker);
            } else {
                out.add(b.build());
            }
        }
        return out;
    }

    private static Open fdinfo(int fd, String target, String info) {
        int flags = 0;
        long pos = 0;
        for (String line : info.split("\n")) {
            if (line.startsWith("pos:")) {
                pos = Long.parseLong(line.substring(4).strip());
            } else if (line.startsWith("flags:")) {
                flags = Integer.parseInt(line.substring(6).strip(), 8);
            }
        }
        return new Open(fd, target, flags, pos);
    }

    /**
     * A pipe is private when the program holds both of its ends: it made it itself (pipe(2)),
     * and with one process and no sockets no one else can have it. A pipe on fds 0-2 held in one
     * direction only is one of the LH's stdio pipes, whose other end the program manager holds.
     */
    private static final class Pipes {
        private final Map<String, boolean[]> ends = new HashMap<>();   // pipe:[ino] -> {read end held, write end held}
        private final Map<String, Integer> stdioSlots = new HashMap<>();

        Pipes(Iterable<Open> all) {
            for (Open o : all) {
                if (o.target().startsWith("pipe:")) {
                    ends.computeIfAbsent(o.target(), t -> new boolean[2])[o.writeOnly() ? 1 : 0] = true;
                }
            }
            for (Open o : all) {
                if (o.fd() <= 2 && o.target().startsWith("pipe:") && !isPrivate(o.target())) {
                    stdioSlots.putIfAbsent(o.target(), o.fd());
                }
            }
        }

        private boolean isPrivate(String target) {
            boolean[] e = ends.get(target);
            return e[0] && e[1];
        }

        String classify(Open o, FileDescriptor.Builder b) {
            String t = o.target();
            if (isPrivate(t)) {
                b.setKind(FileDescriptor.Kind.PIPE).setPipeId(Integer.parseUnsignedInt(t.substring(6, t.length() - 1)))
                        .setWriteEnd(o.writeOnly());
                return null;
            }
            Integer slot = stdioSlots.get(t);
            if (slot == null) {
                return "the " + (o.writeOnly() ? "write" : "read") + " end of a pipe (" + t
                        + ") whose other end is outside the logical host";
            }
            b.setKind(FileDescriptor.Kind.STDIO_PIPE).setStdioSlot(slot);
            return null;
        }
    }

    /** Fills the kind (and path) and returns null, or returns why the fd cannot move. */
    private static String classify(Path procPid, Open o, FileDescriptor.Builder b) {
        String target = o.target();
        if (target.startsWith("socket:[")) {
            return SocketNames.describe(procPid, Long.parseLong(target.substring(8, target.length() - 1)));
        }
        if (target.startsWith("anon_inode:")) {
            String kind = target.substring("anon_inode:".length()).replace("[", "").replace("]", "");
            return "an " + kind + " (" + target + "), which cannot be carried yet";
        }
        if (target.startsWith("/memfd:")) {
            return "a memfd (" + target + "), which cannot be carried yet";
        }
        if (target.startsWith("/dev/shm/")) {
            return "POSIX shared memory " + target + ", which cannot be carried yet";
        }
        if (target.endsWith(" (deleted)")) {
            return "the deleted file " + target.substring(0, target.length() - " (deleted)".length())
                    + ", which cannot be carried (only files that still exist are reopened)";
        }
        Path link = procPid.resolve("fd").resolve(Integer.toString(o.fd()));
        if (Files.isRegularFile(link)) {
            b.setKind(FileDescriptor.Kind.REGULAR).setPath(target);
            return null;
        }
        if (Files.isDirectory(link)) {
            b.setKind(FileDescriptor.Kind.DIRECTORY).setPath(target);
            return null;
        }
        if (!target.startsWith("/")) {
            return "an unsupported kind of file (" + target + ")";
        }
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
            return "an unreadable file " + target;
        }
        return Devices.classify(link, target, b);
    }
}
