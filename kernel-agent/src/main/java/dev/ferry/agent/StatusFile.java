package dev.ferry.agent;

/**
 * Turns what ferry-init left in its status file, plus the launcher's exit value as
 * {@link Process#exitValue()} reports it (128 + signal when it was killed), into a
 * {@link ProgramExit}.
 */
final class StatusFile {
    private StatusFile() {}

    static ProgramExit parse(String text, int launcherExitValue) {
        String line = text.strip();
        int space = line.indexOf(' ');
        String kind = space < 0 ? line : line.substring(0, space);
        String rest = space < 0 ? "" : line.substring(space + 1);
        try {
            switch (kind) {
                case "exited":
                    return ProgramExit.exited(Integer.parseInt(rest), "");
                case "exec-failed":
                    return ProgramExit.execFailed(Integer.parseInt(rest));
                case "launch-failed":
                    return ProgramExit.launchFailure(rest);
                case "init-killed":
                    return ProgramExit.exited(Integer.parseInt(rest), "the logical host's init was killed");
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            return ProgramExit.launchFailure("unreadable status file: " + line);
        }
        if (launcherExitValue > 128) {
            // killed with everything else in the LH (e.g. killAll): report the signal it died of
            return ProgramExit.exited(launcherExitValue - 128, "the logical host was killed");
        }
        return ProgramExit.launchFailure(launcherExitValue == 0 ? "the launcher reported no status"
                : "the launcher failed with exit status " + launcherExitValue);
    }
}
