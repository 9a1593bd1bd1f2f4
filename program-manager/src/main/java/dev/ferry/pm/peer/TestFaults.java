package dev.ferry.pm.peer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults a program manager injects into its own answers, for the fault-injection tests only
 * (hidden option {@code --test-faults SPEC}; README "Testing aids"). Never set in production:
 * a manager started with a fault logs a warning at start and every time the fault fires.
 * <p>
 * SPEC is {@code none} or {@code drop-commit-reply:N}: the first N {@code CommitLh(go)} calls
 * this manager receives as a migration's destination are carried out (the program is thawed
 * and announced) but never answered, so the source's deadline passes without an answer and
 * the outcome is in doubt there.
 */
public final class TestFaults {
    public static final TestFaults NONE = new TestFaults(0);

    private final int commitRepliesToDrop;
    private final AtomicInteger commitRepliesDropped = new AtomicInteger();

    private TestFaults(int commitRepliesToDrop) {
        this.commitRepliesToDrop = commitRepliesToDrop;
    }

    /** Parses SPEC; an empty string or {@code none} is no fault. */
    public static TestFaults parse(String spec) {
        if (spec == null || spec.isEmpty() || spec.equals("none")) {
            return NONE;
        }
        String prefix = "drop-commit-reply:";
        if (spec.startsWith(prefix)) {
            try {
                int n = Integer.parseInt(spec.substring(prefix.length()));
                if (n >= 0) {
                    return new TestFaults(n);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("--test-faults: expected 'none' or 'drop-commit-reply:N' (N >= 0), not '" + spec + "'");
    }

    public boolean active() {
        return commitRepliesToDrop > 0;
    }

    /** True for each of the first N commit replies: that one must not be sent. */
    boolean dropCommitReply() {
        return commitRepliesDropped.incrementAndGet() <= commitRepliesToDrop;
    }

    /** How many commit replies were dropped so far (for the log). */
    int commitRepliesDropped() {
        return Math.min(commitRepliesDropped.get(), commitRepliesToDrop);
    }

    @Override
    public String toString() {
        return active() ? "drop-commit-reply:" + commitRepliesToDrop : "none";
    }
}
