package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.FileDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a process' open files from /proc/PID/fd and fdinfo and says which can be carried:
 * regular files, directories, /dev/null and the pipes that were the LH's stdio (fds 0-2 and
 * duplicates of them). Everything else becomes a blocker.
 */
final class FdTable {
    private FdTable() {}

    static List<FileDescriptor> inspect(Path procPid, String who, List<String> blockers) throws IOException {
        Map<Integer, String> targets = new TreeMap<>();
        try (var dir = Files.list(procPid.resolve("fd"))) {
            for (Path p : (Iterable<Path>) dir::iterator) {
                try {
                    targets.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (IOException closedMeanwhile) {
                    // the fd was closed between list and readlink
                }
            }
        }
        Map<String, Integer> stdioPipes = new TreeMap<>();
        for (int fd = 0; fd <= 2; fd++) {
            String t = targets.get(fd);
            if (t != null && t.startsWith("pipe:") && !stdioPipes.containsKey(t)) {
                stdioPipes.put(t, fd);
            }
        }
        List<FileDescriptor> out = new ArrayList<>();
        for (Map.Entry<Integer, String> e : targets.entrySet()) {
            int fd = e.getKey();
            String target = e.getValue();
            FileDescriptor.Builder b = FileDescriptor.newBuilder().setFd(fd);
            String info = Files.readString(procPid.resolve("fdinfo").resolve(Integer.toString(fd)));
            for (String line : info.split("\n")) {
                if (line.startsWith("pos:")) {
                    b.setPosition(Long.parseLong(line.substring(4).strip()));
                } else if (line.startsWith("flags:")) {
                    b.setFlags(Integer.parseInt(line.substring(6).strip(), 8));
                }
            }
            String blocker = classify(procPid, fd, target, stdioPipes, b);
            if (blocker != null) {
                blockers.add(who + ": fd " + fd + " is " + blocker);
            } else {
                out.add(b.build());
            }
        }
        return out;
    }

    /** Fills the kind (and path or slot) and returns null, or returns why the fd cannot move. */
    private static String classify(Path procPid, int fd, String target, Map<String, Integer> stdioPipes,
                                   FileDescriptor.Builder b) {
        if (target.startsWith("pipe:")) {
            Integer slot = stdioPipes.get(target);
            if (slot == null) {
                return "a pipe that is not the logical host's stdio";
            }
            b.setKind(FileDescriptor.Kind.STDIO_PIPE).setStdioSlot(slot);
            return null;
        }
        if (target.startsWith("socket:[")) {
            return SocketNames.describe(procPid, Long.parseLong(target.substring(8, target.length() - 1)));
        }
        if (target.startsWith("anon_inode:")) {
            String kind = target.substring("anon_inode:".length()).replace("[", "").replace("]", "");
            return "an " + kind + " (" + target + "), which cannot be carried yet";
        }
        if (target.startsWith("/memfd:")) {
            return "a memfd (" + target + ")";
        }
        if (target.endsWith(" (deleted)")) {
            return "the deleted file " + target;
        }
        if (target.equals("/dev/null")) {
            b.setKind(FileDescriptor.Kind.DEV_NULL).setPath(target);
            return null;
        }
        if (target.startsWith("/dev/shm/")) {
            return "POSIX shared memory " + target;
        }
        Path link = procPid.resolve("fd").resolve(Integer.toString(fd));
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
        return Files.exists(link, LinkOption.NOFOLLOW_LINKS) ? "the device or special file " + target
                : "an unreadable file " + target;
    }
}
