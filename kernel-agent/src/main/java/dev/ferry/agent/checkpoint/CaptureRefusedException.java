package dev.ferry.agent.checkpoint;

import java.util.List;

/**
 * The program cannot be captured (yet): each blocker is one line for users, naming the process,
 * the resource and why, e.g. "cannot migrate 7.2 (python3): fd 5 is a TCP socket to
 * 198.18.0.3:5432". Thrown before the program was touched.
 */
public final class CaptureRefusedException extends Exception {
    private final List<String> blockers;

    public CaptureRefusedException(List<String> blockers) {
        super(String.join("\n", blockers));
        this.blockers = List.copyOf(blockers);
    }

    public List<String> blockers() {
        return blockers;
    }
}
