package dev.ferry.agent.input;

import dev.ferry.agent.Errno;
import dev.ferry.agent.linux.jna.InotifyCalls;
import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * Input seen through inotify: {@code IN_ACCESS} on a device node fires when a program reads
 * it, at once (a tty's access time only moves in 8-second steps, which hides keystroke timing
 * but not this). Measured with tmux on this kernel: {@code send-keys} produces {@code IN_ACCESS}
 * as the shell reads the keys, and {@code IN_MODIFY} for the shell's echo and prompt; a program
 * that only prints produces {@code IN_MODIFY} alone. So only {@code IN_ACCESS} counts. Keys typed
 * while no program reads the terminal (a long command in the foreground) are seen when they are
 * read.
 *
 * <p>One daemon thread waits for events with a short poll timeout, so {@link #close} can stop it.
 */
public final class InotifyInputWatcher implements InputWatcher {
    private static final Logger LOG = Logger.getLogger(InotifyInputWatcher.class.getName());
    private static final int POLL_MS = 200;
    private static final int EVENT_HEADER = 16;
    static final String OVERFLOW = "(inotify queue overflow: many reads at once)";

    private final InotifyCalls calls = InotifyCalls.INSTANCE;
    private final int fd;
    private final Listener listener;
    /** Watch descriptor -> what it watches; written by the watcher thread after start. */
    private final Map<Integer, Path> devices = new ConcurrentHashMap<>();
    private final Map<Integer, InputSources.DeviceDirectory> directories = new ConcurrentHashMap<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean closed;

    private InotifyInputWatcher(int fd, Listener listener) {
        this.fd = fd;
        this.listener = listener;
        this.thread = new Thread(this::loop, "input-watch");
        this.thread.setDaemon(true);
    }

    /** Watches {@code sources}; devices that cannot be watched are listed in {@link #problems()}. */
    public static InotifyInputWatcher start(InputSources sources, Listener listener) throws IOException {
        int fd;
        try {
            fd = InotifyCalls.INSTANCE.inotify_init1(InotifyCalls.IN_NONBLOCK | InotifyCalls.IN_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("inotify_init1: " + Errno.describe(e.getErrorCode()), e);
        }
        InotifyInputWatcher w = new InotifyInputWatcher(fd, listener);
        for (InputSources.DeviceDirectory d : sources.directories()) {
            w.watchDirectory(d);
        }
        for (Path p : sources.devices()) {
            w.watchDevice(p);
        }
        w.thread.start();
        return w;
    }

    private void watchDevice(Path p) {
        try {
            devices.put(calls.inotify_add_watch(fd, p.toString(), InotifyCalls.IN_ACCESS), p);
        } catch (LastErrorException e) {
            problems.add(p + ": " + Errno.describe(e.getErrorCode()));
        }
    }

    private void watchDirectory(InputSources.DeviceDirectory d) {
        try {
            directories.put(calls.inotify_add_watch(fd, d.dir().toString(), InotifyCalls.IN_CREATE | InotifyCalls.IN_ONLYDIR), d);
        } catch (LastErrorException e) {
            problems.add(d.dir() + " (new devices): " + Errno.describe(e.getErrorCode()));
        }
    }

    private void loop() {
        byte[] buf = new byte[16 * 1024];
        InotifyCalls.PollFd[] pfd = (InotifyCalls.PollFd[]) new InotifyCalls.PollFd().toArray(1);
        try {
            while (!closed) {
                pfd[0].fd = fd;
                pfd[0].events = InotifyCalls.POLLIN;
                pfd[0].revents = 0;
                if (!ready(pfd)) {
                    continue;
                }
                long n = readEvents(buf);
                if (n > 0 && !closed) {
                    forEachEvent(buf, (int) n, this::onEvent);
                }
            }
        } catch (RuntimeException e) {
            LOG.severe("input watching stopped: " + e);
        }
    }

    private boolean ready(InotifyCalls.PollFd[] pfd) {
        try {
            return calls.poll(pfd, 1, POLL_MS) > 0;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == InotifyCalls.EINTR) {
                return false;
            }
            throw e;
        }
    }

    private long readEvents(byte[] buf) {
        try {
            return calls.read(fd, buf, buf.length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == InotifyCalls.EAGAIN || e.getErrorCode() == InotifyCalls.EINTR) {
                return 0;
            }
            throw e;
        }
    }

    private void onEvent(int wd, int mask, String name) {
        if ((mask & InotifyCalls.IN_Q_OVERFLOW) != 0) {
            listener.input(OVERFLOW);
            return;
        }
        if ((mask & InotifyCalls.IN_IGNORED) != 0) {
            // The device went away (a closed terminal's node is removed): its watch is gone.
            devices.remove(wd);
            directories.remove(wd);
            return;
        }
        InputSources.DeviceDirectory dir = directories.get(wd);
        if (dir != null) {
            if ((mask & InotifyCalls.IN_CREATE) != 0 && dir.wants(name)) {
                watchDevice(dir.dir().resolve(name));
            }
            return;
        }
        Path device = devices.get(wd);
        if (device != null && (mask & InotifyCalls.IN_ACCESS) != 0) {
            listener.input(device.toString());
        }
    }

    /** One inotify event: watch descriptor, mask, and the name (for events in a directory, else ""). */
    @FunctionalInterface
    interface EventSink {
        void event(int wd, int mask, String name);
    }

    /** Splits what read(2) returned into events: {@code struct inotify_event} in host byte order. */
    static void forEachEvent(byte[] buf, int length, EventSink sink) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length).order(ByteOrder.nativeOrder());
        while (b.remaining() >= EVENT_HEADER) {
            int start = b.position();
            int wd = b.getInt(start);
            int mask = b.getInt(start + 4);
            int nameLength = b.getInt(start + 12);
            if (nameLength < 0 || start + EVENT_HEADER + nameLength > length) {
                throw new IllegalArgumentException("truncated inotify event at byte " + start);
            }
            int end = start + EVENT_HEADER;
            while (end < start + EVENT_HEADER + nameLength && buf[end] != 0) {
                end++;
            }
            String name = new String(buf, start + EVENT_HEADER, end - start - EVENT_HEADER, StandardCharsets.UTF_8);
            sink.event(wd, mask, name);
            b.position(start + EVENT_HEADER + nameLength);
        }
    }

    @Override
    public List<String> watched() {
        List<String> out = new ArrayList<>();
        devices.values().forEach(p -> out.add(p.toString()));
        out.sort(null);
        return out;
    }

    @Override
    public List<String> problems() {
        return List.copyOf(problems);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != thread) {
            try {
                thread.join(5 * POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Closing the fd drops every watch with it.
        try {
            calls.close(fd);
        } catch (LastErrorException e) {
            LOG.fine("closing the inotify fd: " + Errno.describe(e.getErrorCode()));
        }
    }
}
