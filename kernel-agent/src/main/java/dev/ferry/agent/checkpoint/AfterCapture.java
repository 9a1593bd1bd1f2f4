package dev.ferry.agent.checkpoint;

/** What happens to the program once it has been captured. */
public enum AfterCapture {
    /** SIGKILL while still stopped: not one more instruction runs (checkpoint, migration). */
    KILL,
    /** Detach and thaw: the program goes on (a fork-like checkpoint). */
    LEAVE_RUNNING
}
