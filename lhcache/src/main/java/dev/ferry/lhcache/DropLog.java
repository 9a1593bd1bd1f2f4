package dev.ferry.lhcache;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs refused group datagrams: at most one WARNING every 10 s (a flood of forgeries must not
 * flood the log), the rest at FINE. Uses the real clock: log pacing is not protocol time.
 */
final class DropLog {
    private static final Logger LOG = Logger.getLogger(GroupChannel.class.getName());
    private static final long WARN_EVERY_NANOS = 10_000_000_000L;

    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);

    void dropped(SocketAddress from, String why) {
        long now = System.nanoTime();
        long last = lastWarning.get();
        boolean warn = now - last >= WARN_EVERY_NANOS && lastWarning.compareAndSet(last, now);
        LOG.log(warn ? Level.WARNING : Level.FINE, "dropped group datagram from {0}: {1}", new Object[] {from, why});
    }
}
