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
 * Reads a process' open files from /proc/PID/fd and fdinfo, and says which of those that are
 * not pipes can be carried: regular files, directories, stateless character devices
 * ({@link Devices}). Everything else becomes a blocker. Pipes are judged for the whole LH at
 * once ({@link LhFiles}): whether one is the LH's own depends on who else holds it.
 */
final class FdTable {
    private static final int O_ACCMODE = 3, O_WRONLY = 1;

    private FdTable() {}

    /** One open fd as /proc shows it. */
    record Open(int fd, String target, int flags, long position) {
        boolean writeOnly() {
            return (flags & O_ACCMODE) == O_WRONLY;
        }

        boolean pipe() {
            return target.startsWith("pipe:[");
        }

        /** The pipe's inode ("pipe:[ino]"), which both of its ends show. */
        long pipeInode() {
            return Long.parseLong(target.substring(6, target.length() - 1));
        }
    }

    /** Every fd of the process, in fd order. */
    static List<Open> list(Path procPid) throws IOException {
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
        return new ArrayList<>(open.values());
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

    /** For an fd that is not a pipe: fills the kind (and path) and returns null, or returns why the fd cannot move. */
    static String classify(Path procPid, Open o, FileDescriptor.Builder b) {
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
