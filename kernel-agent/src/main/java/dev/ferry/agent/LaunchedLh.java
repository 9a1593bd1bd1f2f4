package dev.ferry.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A logical host started by {@link LhLauncher}: its program's stdio, cgroup and exit. */
public interface LaunchedLh {
    String lhId();

    /** The program's fd 0: write and flush; close for end of file. */
    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    LhCgroup cgroup();

    /**
     * The host pid of the program (pid 2 in the LH), which is also its process group on the
     * host. Waits briefly until the program has its own process group; -1 once it has ended.
     */
    int programHostPid();

    /**
     * Completes when the launcher has exited, i.e. after the program and everything else in
     * the LH ended; by then the LH's cgroup has been removed.
     */
    CompletableFuture<ProgramExit> exit();

    /** Adjustments made to the request, e.g. a resource limit lowered to what the host allows. */
    List<String> warnings();

    /** killpg(programHostPid(), sig); nothing happens if the program is gone. */
    void signalGroup(int sig);
}
