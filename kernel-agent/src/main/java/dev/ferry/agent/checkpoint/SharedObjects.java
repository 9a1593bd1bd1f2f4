package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.Mapping;
import dev.ferry.proto.v1.SharedMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shared memory objects of an LH (MAP_SHARED|MAP_ANONYMOUS areas and memfds, both shmem
 * files inside the kernel), each once however many processes map it or hold it open: two areas
 * or fds are one object when the files /proc/PID/map_files/RANGE and /proc/PID/fd/N lead to have
 * the same device and inode. The content is read through such a file, so it is the object's
 * whole content, also where no process maps it, and it goes to the page sink as pages of pid 0
 * at the object's base ({@link SharedMemory}).
 */
final class SharedObjects {
    private static final long BASE_SHIFT = 40;   // 1 TiB of pseudo addresses per object

    /** An object and where it can be read from. */
    private record Found(SharedMemory.Builder image, Path file) {}

    private final Map<String, Found> byIdentity = new LinkedHashMap<>();

    /** Gives each shared-memory mapping of the process {@code hostPid} its object's id. */
    void tag(int hostPid, List<Mapping.Builder> mappings) throws IOException {
        for (Mapping.Builder m : mappings) {
            if (m.getShared() && (m.getPath().isEmpty() || m.getPath().startsWith("/dev/zero") || m.getPath().startsWith("/memfd:"))) {
                Path file = Path.of("/proc", Integer.toString(hostPid), "map_files",
                        Long.toHexString(m.getStart()) + "-" + Long.toHexString(m.getEnd()));
                m.setShmId(object(file, m.getPath().startsWith("/memfd:") ? m.getPath() : ""));
            }
        }
    }

    /** The id of the memfd open at fd {@code fd} of {@code hostPid} ({@code target}: its /proc link, "/memfd:NAME (deleted)"). */
    int fd(int hostPid, int fd, String target) throws IOException {
        return object(Path.of("/proc", Integer.toString(hostPid), "fd", Integer.toString(fd)), target);
    }

    private int object(Path file, String memfdPath) throws IOException {
        String key = Files.getAttribute(file, "unix:dev") + ":" + Files.getAttribute(file, "unix:ino");
        Found found = byIdentity.get(key);
        if (found == null) {
            int id = byIdentity.size() + 1;
            SharedMemory.Builder b = SharedMemory.newBuilder().setId(id).setSize(Files.size(file)).setBase((long) id << BASE_SHIFT);
            if (memfdPath.startsWith("/memfd:")) {
                String name = memfdPath.substring("/memfd:".length());
                b.setKind(SharedMemory.Kind.MEMFD).setName(name.endsWith(" (deleted)") ? name.substring(0, name.length() - 10) : name);
            }
            found = new Found(b, file);
            byIdentity.put(key, found);
        }
        return found.image().getId();
    }

    List<SharedMemory> objects() {
        List<SharedMemory> out = new ArrayList<>();
        byIdentity.values().forEach(f -> out.add(f.image().build()));
        return out;
    }

    /** Every object's content into {@code sink}, zero pages as zero runs (pid 0, at base + offset). */
    void read(PageSink sink) throws IOException {
        for (Found f : byIdentity.values()) {
            long size = f.image().getSize(), base = f.image().getBase();
            try (FileChannel in = FileChannel.open(f.file(), StandardOpenOption.READ)) {
                for (long at = 0; at < size; at += PageReader.RUN) {
                    int length = (int) Math.min(PageReader.RUN, (size - at + PageReader.PAGE - 1) / PageReader.PAGE * PageReader.PAGE);
                    ByteBuffer buf = sink.claim(length);
                    buf.clear().limit(length);
                    while (buf.hasRemaining() && in.read(buf, at + buf.position()) > 0) {
                        // read on: shmem reads holes as zeros without allocating them
                    }
                    while (buf.hasRemaining()) {
                        buf.put((byte) 0);   // the tail of a size that is not a whole page
                    }
                    PageReader.emit(0, base + at, buf, length, sink);
                }
            }
        }
    }
}
