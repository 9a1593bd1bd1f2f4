package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One logical host's cgroup(s): one directory per hierarchy used, all named {@code lh-<lhId>}.
 * Everything the LH's launcher creates lives in them, so they name, freeze, meter and kill the
 * whole LH at once.
 */
public interface LhCgroup {
    String lhId();

    /** The cgroup.procs files the launcher joins, one per hierarchy. */
    List<Path> procsFiles();

    /** Freezes every process of the LH; returns once the kernel reports the LH frozen. */
    void freeze() throws IOException;

    void thaw() throws IOException;

    boolean frozen();

    /** Every pid in the LH (host namespace), launcher and init included; empty once it is gone. */
    List<Integer> hostPids();

    /** CPU time used by the LH's processes so far, in microseconds (the last value read, once removed). */
    long cpuMicros();

    /** SIGKILLs every process in the LH, frozen or not, and waits briefly until it is empty. */
    void killAll();

    /**
     * Removes the cgroup directories once they are empty (retrying for a moment, since
     * processes leave a cgroup shortly after they die); removing twice is harmless.
     * @throws java.io.UncheckedIOException if a directory could not be removed
     */
    void remove();
}
