package dev.ferry.cli;

import java.util.List;

/**
 * The parsed command line of {@code run [OPTIONS] PROG ARGS... [@ HOST | @ '*']}.
 *
 * <p>Rules, in order: options are read only before PROG ({@code --} ends them); the last
 * standalone {@code @} separates the destination and exactly one word must follow it; without
 * one, a last word {@code @HOST} or {@code @any} names it; otherwise the program runs on the
 * local host (destination ""). {@code @any} and {@code @*} mean any willing host ("*").
 *
 * @param argv        PROG and its arguments, never empty unless help or version was asked
 * @param destination "" for this host, "*" for any willing host, else a host name
 * @param restartDir  with {@code --restart DIR}: the checkpoint image to bring back (argv is empty)
 */
public record RunArguments(boolean help, boolean version, boolean verbose,
                           List<String> argv, String destination, String restartDir) {
    public static final String ANY_HOST = "*";
    public static final String USAGE = "usage: run [-v|--verbose] [--] PROG [ARG...] [@ HOST | @ '*' | @HOST | @any]\n"
            + "       run [-v|--verbose] --restart DIR [@ HOST | @ '*' | @HOST | @any]";
    public static final String EXPANDED_STAR =
            "'@ *' was expanded by your shell; quote it: @ '*' (or use @any)";

    public static RunArguments parse(List<String> args) throws UsageException {
        boolean verbose = false;
        String restartDir = "";
        int i = 0;
        for (; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--")) {
                i++;
                break;
            }
            if (arg.equals("-h") || arg.equals("--help")) {
                return new RunArguments(true, false, verbose, List.of(), "", "");
            }
            if (arg.equals("--version")) {
                return new RunArguments(false, true, verbose, List.of(), "", "");
            }
            if (arg.equals("-v") || arg.equals("--verbose")) {
                verbose = true;
            } else if (arg.equals("--restart") || arg.startsWith("--restart=")) {
                restartDir = arg.equals("--restart") ? (i + 1 < args.size() ? args.get(++i) : "") : arg.substring("--restart=".length());
                if (restartDir.isEmpty()) {
                    throw new UsageException("--restart needs the checkpoint directory");
                }
            } else if (arg.length() > 1 && arg.startsWith("-")) {
                throw new UsageException("unknown option " + arg + " (options go before PROG)");
            } else {
                break;
            }
        }
        List<String> words = args.subList(i, args.size());
        int at = words.lastIndexOf("@");
        List<String> argv;
        String destination;
        if (at >= 0) {
            List<String> after = words.subList(at + 1, words.size());
            if (after.isEmpty()) {
                throw new UsageException("a host must follow '@' (or '*' for any willing host)");
            }
            if (after.size() > 1) {
                throw new UsageException(EXPANDED_STAR);
            }
            argv = words.subList(0, at);
            destination = hostOf(after.get(0));
        } else if (!words.isEmpty() && isAtWord(words.get(words.size() - 1))) {
            argv = words.subList(0, words.size() - 1);
            destination = hostOf(words.get(words.size() - 1).substring(1));
        } else {
            argv = words;
            destination = "";
        }
        if (!restartDir.isEmpty()) {
            if (!argv.isEmpty()) {
                throw new UsageException("--restart takes no program: the image says what runs (" + argv.get(0) + " given)");
            }
            return new RunArguments(false, false, verbose, List.of(), destination, restartDir);
        }
        if (argv.isEmpty()) {
            throw new UsageException("no program to run");
        }
        return new RunArguments(false, false, verbose, List.copyOf(argv), destination, "");
    }

    private static boolean isAtWord(String word) {
        return word.length() > 1 && word.charAt(0) == '@';
    }

    private static String hostOf(String word) {
        return word.equals("any") ? ANY_HOST : word;
    }
}
