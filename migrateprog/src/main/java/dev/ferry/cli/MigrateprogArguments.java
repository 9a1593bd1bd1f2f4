package dev.ferry.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The parsed command line of {@code migrateprog}.
 *
 * <pre>
 * migrateprog [-n] [PROG|LHID] [--to HOST|'*'] [--json] [--no-precopy] [--progress|--quiet]
 *                                                                        move programs off this host
 * migrateprog --checkpoint DIR [--leave-running] [--json] PROG|LHID      write a checkpoint image
 * </pre>
 *
 * @param targets PROG or LHID words (at most one with --checkpoint)
 * @param progress "on" (--progress), "off" (--quiet) or "auto" (when stderr is a terminal)
 */
public record MigrateprogArguments(boolean help, boolean version, boolean json, String checkpointDir,
                                   boolean leaveRunning, boolean destroyIfStuck, String to, boolean noPrecopy,
                                   List<String> targets, String progress) {
    public static final String USAGE = "usage: migrateprog [-n] [PROG|LHID] [--to HOST|'*'] [--json] [--no-precopy]\n"
            + "                   [--progress|--quiet]\n"
            + "       migrateprog --checkpoint DIR [--leave-running] [--json] PROG|LHID";

    public static MigrateprogArguments parse(List<String> args) throws UsageException {
        boolean json = false;
        boolean leaveRunning = false;
        boolean destroy = false;
        boolean noPrecopy = false;
        String checkpointDir = "";
        String to = "";
        String progress = "auto";
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "-h", "--help" -> {
                    return new MigrateprogArguments(true, false, false, "", false, false, "", false, List.of(), "auto");
                }
                case "--version" -> {
                    return new MigrateprogArguments(false, true, false, "", false, false, "", false, List.of(), "auto");
                }
                case "--json" -> json = true;
                case "--leave-running" -> leaveRunning = true;
                case "-n" -> destroy = true;
                case "--no-precopy" -> noPrecopy = true;
                case "--progress" -> progress = "on";
                case "--quiet" -> progress = "off";
                case "--checkpoint" -> checkpointDir = value(args, ++i, "--checkpoint needs a directory");
                case "--to" -> to = value(args, ++i, "--to needs a host name or '*'");
                default -> {
                    if (arg.startsWith("--checkpoint=")) {
                        checkpointDir = arg.substring("--checkpoint=".length());
                    } else if (arg.startsWith("--to=")) {
                        to = arg.substring("--to=".length());
                    } else if (arg.startsWith("-") && arg.length() > 1) {
                        throw new UsageException("unknown option " + arg);
                    } else {
                        targets.add(arg);
                    }
                }
            }
        }
        if (!checkpointDir.isEmpty()) {
            if (targets.size() != 1) {
                throw new UsageException("--checkpoint takes exactly one PROG or LHID");
            }
            if (destroy || !to.isEmpty() || noPrecopy) {
                throw new UsageException("--checkpoint does not go with -n, --to or --no-precopy");
            }
        } else if (leaveRunning) {
            throw new UsageException("--leave-running goes with --checkpoint DIR");
        }
        return new MigrateprogArguments(false, false, json, checkpointDir, leaveRunning, destroy, to, noPrecopy, List.copyOf(targets),
                progress);
    }

    private static String value(List<String> args, int i, String missing) throws UsageException {
        if (i >= args.size() || args.get(i).isEmpty()) {
            throw new UsageException(missing);
        }
        return args.get(i);
    }
}
