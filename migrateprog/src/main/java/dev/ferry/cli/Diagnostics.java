package dev.ferry.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Ferry's own one-line messages on the caller's stderr, each prefixed with "ferry: ". */
public final class Diagnostics {
    private final OutputStream stderr;

    public Diagnostics(OutputStream stderr) {
        this.stderr = stderr;
    }

    public void say(String message) {
        line("ferry: " + message);
    }

    /** A line as is (a usage line). */
    public synchronized void line(String text) {
        try {
            stderr.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            stderr.flush();
        } catch (IOException e) {
            // stderr is gone: nowhere left to report to
        }
    }
}
