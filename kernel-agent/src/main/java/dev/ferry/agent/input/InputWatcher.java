package dev.ferry.agent.input;

import java.util.List;

/**
 * Reports input on a workstation's input devices as it happens. Implementations watch
 * <em>reads</em> of the devices, not writes: a key typed on a terminal is read by the program
 * in it (a shell, an editor), while output written to the terminal (a prompt, an echo, a
 * program printing) is not the owner doing anything.
 */
public interface InputWatcher extends AutoCloseable {
    /** Called on the watcher's own thread, once per read seen; must return quickly. */
    @FunctionalInterface
    interface Listener {
        /** @param device the device read, or a description when the event could not be placed */
        void input(String device);
    }

    /** The devices watched now, for logs and status. */
    List<String> watched();

    /** Devices that were listed but could not be watched, each with the reason. */
    List<String> problems();

    /** Stops watching; no listener call starts after this returns. */
    @Override
    void close();
}
