package dev.ferry.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.util.function.IntConsumer;

/**
 * Reads signals from a signalfd inherited from ferry-signals: each read returns one 128-byte
 * signalfd_siginfo whose first field is the signal number (little-endian u32 on x86_64).
 */
final class SignalFdReader {
    private static final int SIGINFO_SIZE = 128;

    private SignalFdReader() {
    }

    /** Starts the reader thread; false if the descriptor cannot be used (then Java handles signals). */
    static boolean start(String fdText, IntConsumer onSignal) {
        InputStream in;
        try {
            in = new FileInputStream(descriptor(Integer.parseInt(fdText)));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
        Thread t = new Thread(() -> readLoop(in, onSignal), "signals");
        t.setDaemon(true);
        t.start();
        return true;
    }

    /** java.io.FileDescriptor has no public way to wrap a number; bin/run opens java.io for this. */
    private static FileDescriptor descriptor(int fd) throws ReflectiveOperationException {
        Constructor<FileDescriptor> c = FileDescriptor.class.getDeclaredConstructor(int.class);
        c.setAccessible(true);
        return c.newInstance(fd);
    }

    private static void readLoop(InputStream in, IntConsumer onSignal) {
        byte[] info = new byte[SIGINFO_SIZE];
        try {
            while (in.readNBytes(info, 0, SIGINFO_SIZE) == SIGINFO_SIZE) {
                int signo = (info[0] & 0xff) | (info[1] & 0xff) << 8 | (info[2] & 0xff) << 16 | (info[3] & 0xff) << 24;
                onSignal.accept(signo);
            }
        } catch (IOException e) {
            // the descriptor failed: nothing more can be relayed
        }
    }
}
