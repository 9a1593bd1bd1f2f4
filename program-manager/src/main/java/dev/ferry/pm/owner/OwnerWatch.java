package dev.ferry.pm.owner;

import dev.ferry.agent.input.InotifyInputWatcher;
import dev.ferry.agent.input.InputSources;
import dev.ferry.agent.input.InputWatcher;
import java.io.IOException;
import java.util.logging.Logger;

/** Feeds input seen on the owner's devices into the idle clock and wakes the reclaim loop. */
public final class OwnerWatch implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OwnerWatch.class.getName());

    private final InputWatcher watcher;

    private OwnerWatch(InputWatcher watcher) {
        this.watcher = watcher;
    }

    /**
     * Watches {@code sources}. With no device to watch the owner is never seen: said once in
     * the log, and the host then behaves as if its owner were always idle.
     *
     * @throws IOException when inotify itself is unavailable
     */
    public static OwnerWatch start(InputSources sources, IdleClock idle, Runnable onInput) throws IOException {
        long threshold = idle.thresholdMillis();
        InputWatcher w = InotifyInputWatcher.start(sources, device -> {
            long idleBefore = idle.input(device);
            if (idleBefore >= threshold) {
                LOG.info(() -> "owner input on " + device + " after " + IdleClock.seconds(idleBefore) + " idle");
            }
            onInput.run();
        });
        LOG.info(() -> "owner input watched on " + describe(w) + "; idle " + IdleClock.seconds(idle.idleMillis())
                + " at start (from " + idle.lastDevice() + "), threshold " + IdleClock.seconds(threshold));
        if (!w.problems().isEmpty()) {
            LOG.warning("owner input devices not watched: " + String.join("; ", w.problems()));
        }
        if (w.watched().isEmpty() && sources.directories().isEmpty()) {
            LOG.warning("no owner input device is watched: this host never sees its owner");
        }
        return new OwnerWatch(w);
    }

    private static String describe(InputWatcher w) {
        var watched = w.watched();
        if (watched.size() <= 4) {
            return watched.isEmpty() ? "no device" : String.join(", ", watched);
        }
        return watched.size() + " devices (" + String.join(", ", watched.subList(0, 3)) + ", ...)";
    }

    @Override
    public void close() {
        watcher.close();
    }
}
