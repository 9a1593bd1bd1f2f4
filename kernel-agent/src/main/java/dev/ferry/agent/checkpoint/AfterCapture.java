package dev.ferry.agent.checkpoint;

/** What happens to the program once it has been captured. */
public enum AfterCapture {
    /** SIGKILL while still stopped: not one more instruction runs (checkpoint, migration). */
    KILL,
    /** Detach and thaw: the program goes on (a fork-like checkpoint). */
    LEAVE_RUNNING,
    /**
     * Stays stopped without a tracer, in its frozen LH cgroup, exactly where it was captured:
     * the stop-and-copy hand-over of a migration. The caller then either thaws the cgroup
     * ({@code cgroup.thaw()}: the program goes on as if nothing happened; the migration is
     * abandoned) or kills it ({@code cgroup.killAll()}: the copy took over), never both.
     */
    FREEZE
}
