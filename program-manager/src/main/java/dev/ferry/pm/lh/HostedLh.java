package dev.ferry.pm.lh;

import dev.ferry.agent.Errno;
import dev.ferry.agent.LaunchedLh;
import dev.ferry.agent.PipeLevels;
import dev.ferry.agent.ProgramExit;
import dev.ferry.proto.v1.ExitStatus;
import dev.ferry.proto.v1.ProgramSpec;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A logical host running on this host: the launched program, its output logs, its stdin
 * sink and its exit. Pumps copy the program's stdout/stderr pipes into the logs; the exit is
 * reported only after both pipes reached end of file, so a client that receives the exit has
 * every byte of output before it.
 */
public final class HostedLh {
    private static final Logger LOG = Logger.getLogger(HostedLh.class.getName());
    static final int LOG_CAPACITY = 4 << 20;

    private final String id;
    private final String hostName;
    private final ProgramSpec spec;
    private final LhOwner owner;
    private final LaunchedLh launched;
    private final long startedMillis;
    /** Notified when either output log changes or the LH ends: what attach streams wait on. */
    private final Object outputSignal = new Object();
    private final OutputLog stdout;
    private final OutputLog stderr;
    private final StdinSink stdin;
    private volatile Moved movedTo;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private volatile boolean userStopped;
    private volatile boolean frozenForOwner;
    private volatile String checkpointedTo = "";

    /** Where an LH's byte streams stand when it starts here: zero, or where it left its last host. */
    public record StreamOffsets(long stdout, long stderr, long stdinWritten) {
        public static final StreamOffsets START = new StreamOffsets(0, 0, 0);
    }

    public HostedLh(String id, String hostName, ProgramSpec spec, LhOwner owner, LaunchedLh launched, long startedMillis) {
        this(id, hostName, spec, owner, launched, startedMillis, StreamOffsets.START);
    }

    public HostedLh(String id, String hostName, ProgramSpec spec, LhOwner owner, LaunchedLh launched, long startedMillis,
                    StreamOffsets offsets) {
        this.stdout = new OutputLog(LOG_CAPACITY, offsets.stdout(), outputSignal);
        this.stderr = new OutputLog(LOG_CAPACITY, offsets.stderr(), outputSignal);
        this.id = id;
        this.hostName = hostName;
        this.spec = spec;
        this.owner = owner;
        this.launched = launched;
        this.startedMillis = startedMillis;
        this.stdin = new StdinSink(launched.stdin(), id, offsets.stdinWritten());
        CompletableFuture<Void> out = pump(launched.stdout(), stdout, "stdout");
        CompletableFuture<Void> err = pump(launched.stderr(), stderr, "stderr");
        launched.exit().thenCombine(CompletableFuture.allOf(out, err), (e, ignored) -> e)
                .whenComplete((e, t) -> {
                    stdin.stop();
                    exit.complete(t == null ? toStatus(e) : ferryFailure(t));
                    stdout.poke();
                    stderr.poke();
                });
    }

    private CompletableFuture<Void> pump(InputStream in, OutputLog log, String what) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    log.append(buf, 0, n);
                }
            } catch (IOException e) {
                LOG.log(Level.FINE, id + " " + what + " pipe ended", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                log.close();
                done.complete(null);
            }
        }, what + "-" + id);
        t.setDaemon(true);
        t.start();
        return done;
    }

    /**
     * With the program frozen, waits until everything it wrote to stdout and stderr is in the
     * logs, so the logs' ends are where the streams continue after a move: the kernel says both
     * pipes are empty (FIONREAD), and the logs then do not grow for a settle time (a pump whose
     * read has just returned appends within microseconds; a frozen program writes nothing new).
     */
    public void awaitOutputDrained(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int pid = launched.programHostPid();
        long seen = -1;
        while (true) {
            boolean empty = pid > 0 && PipeLevels.unread(pid, 1) == 0 && PipeLevels.unread(pid, 2) == 0;
            long logged = stdout.end() + stderr.end();
            if (empty && logged == seen) {
                return;
            }
            seen = empty ? logged : -1;
            if (System.nanoTime() > deadline) {
                throw new IOException("the program's output pipes did not drain in " + timeoutMillis + " ms");
            }
            Thread.sleep(SETTLE_MS);
        }
    }

    private static final long SETTLE_MS = 1;

    /** Where the LH went when it moved away (then its attach streams end with "moved", not an exit). */
    public record Moved(String host, String address) {}

    public void markMoved(String host, String address) {
        movedTo = new Moved(host, address);
    }

    public Moved movedTo() {
        return movedTo;
    }

    private volatile boolean migrating;
    private volatile String inDoubtWith = "";

    public void markMigrating(boolean on) {
        synchronized (migrationDone) {
            migrating = on;
            migrationDone.notifyAll();
        }
    }

    private final Object migrationDone = new Object();

    /**
     * Holds a request that arrives while this LH is moving until the move has ended (moved
     * or rolled back), so that it acts on the right copy; false if it is still moving after
     * {@code timeoutMillis}.
     */
    public boolean awaitMigrationEnd(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (migrationDone) {
            while (migrating) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                migrationDone.wait(left);
            }
        }
        return true;
    }

    public boolean migrating() {
        return migrating;
    }

    /** A commit was sent to {@code host} and not confirmed: this copy stays frozen. */
    public void markInDoubt(String host) {
        inDoubtWith = host;
    }

    public boolean inDoubt() {
        return !inDoubtWith.isEmpty();
    }

    private ExitStatus toStatus(ProgramExit e) {
        if (!checkpointedTo.isEmpty()) {
            return ExitStatus.newBuilder().setCode(255).setWaitStatus(e.waitStatus()).setCheckpointedTo(checkpointedTo)
                    .setMessage(id + " checkpointed to " + checkpointedTo).build();
        }
        ExitStatus.Builder b = ExitStatus.newBuilder().setCode(e.shellCode()).setWaitStatus(e.waitStatus());
        String prog = spec.getArgv(0);
        if (e.execErrno() != 0) {
            // Worded like a shell's message, plus where: the user may not know which host ran it.
            String why = e.shellCode() == 127 ? "command not found" : "cannot execute: " + Errno.describe(e.execErrno());
            b.setExecFailed(true).setMessage(prog + ": " + why + " (on " + hostName + ")");
        } else if (e.launchFailed()) {
            b.setMessage("could not start " + prog + " on " + hostName + ": " + e.message());
        }
        return b.build();
    }

    private static ExitStatus ferryFailure(Throwable t) {
        return ExitStatus.newBuilder().setCode(255).setMessage("lost track of the program: " + t.getMessage()).build();
    }

    public String id() {
        return id;
    }

    public ProgramSpec spec() {
        return spec;
    }

    public LhOwner owner() {
        return owner;
    }

    public LaunchedLh launched() {
        return launched;
    }

    public long startedMillis() {
        return startedMillis;
    }

    public OutputLog stdout() {
        return stdout;
    }

    public OutputLog stderr() {
        return stderr;
    }

    public Object outputSignal() {
        return outputSignal;
    }

    public StdinSink stdin() {
        return stdin;
    }

    /** Completes once the program ended and all its output is in the logs. */
    public CompletableFuture<ExitStatus> exit() {
        return exit;
    }

    /** The LH is being ended by a checkpoint into {@code dir} ("" to take that back). */
    public void markCheckpointed(String dir) {
        checkpointedTo = dir;
    }

    public boolean userStopped() {
        return userStopped;
    }

    /** Suspends the whole LH in the freezer at the user's request ({@code lhosts stop}). */
    public synchronized void stop() throws IOException {
        launched.cgroup().freeze();
        userStopped = true;
    }

    /** Resumes a user's stop; a guest frozen for this host's owner stays frozen until the owner is idle. */
    public synchronized void cont() throws IOException {
        userStopped = false;
        if (!frozenForOwner) {
            launched.cgroup().thaw();
        }
    }

    /**
     * Freezes a guest because this host's owner is active and it could not leave. One freezer,
     * two reasons: a user's {@code cont} does not thaw it, and {@link #thawForOwner} does not
     * thaw an LH its user stopped.
     */
    public synchronized void freezeForOwner() throws IOException {
        launched.cgroup().freeze();
        frozenForOwner = true;
    }

    public synchronized void thawForOwner() throws IOException {
        frozenForOwner = false;
        if (!userStopped) {
            launched.cgroup().thaw();
        }
    }

    public boolean frozenForOwner() {
        return frozenForOwner;
    }

    /** Ends the LH: every process in it gets SIGKILL. */
    public void kill() {
        launched.cgroup().killAll();
    }

    public String program() {
        List<String> argv = spec.getArgvList();
        String a0 = argv.isEmpty() ? "" : argv.get(0);
        return a0.substring(a0.lastIndexOf('/') + 1);
    }
}
