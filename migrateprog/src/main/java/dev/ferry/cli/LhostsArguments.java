package dev.ferry.cli;

import dev.ferry.proto.v1.ControlAction;
import java.util.ArrayList;
import java.util.List;

/**
 * The parsed command line of {@code lhosts}: list the cluster's logical hosts, list the hosts
 * ({@code --hosts}), or act on logical hosts ({@code kill|stop|cont LHID...}).
 *
 * @param action the control action, or null when listing
 * @param lhIds  the logical hosts to act on (empty when listing)
 */
public record LhostsArguments(Mode mode, boolean json, ControlAction action, List<String> lhIds) {
    public static final String USAGE =
            "usage: lhosts [--json] | lhosts --hosts [--json] | lhosts kill|stop|cont LHID...";

    public enum Mode { HELP, VERSION, LIST, HOSTS, CONTROL }

    public static LhostsArguments parse(List<String> args) throws UsageException {
        boolean json = false;
        boolean hosts = false;
        List<String> words = new ArrayList<>();
        for (String arg : args) {
            switch (arg) {
                case "-h", "--help" -> {
                    return new LhostsArguments(Mode.HELP, false, null, List.of());
                }
                case "--version" -> {
                    return new LhostsArguments(Mode.VERSION, false, null, List.of());
                }
                case "--json" -> json = true;
                case "--hosts" -> hosts = true;
                default -> {
                    if (arg.startsWith("-")) {
                        throw new UsageException("unknown option " + arg);
                    }
                    words.add(arg);
                }
            }
        }
        if (words.isEmpty()) {
            return new LhostsArguments(hosts ? Mode.HOSTS : Mode.LIST, json, null, List.of());
        }
        ControlAction action = switch (words.get(0)) {
            case "kill" -> ControlAction.KILL;
            case "stop" -> ControlAction.STOP;
            case "cont" -> ControlAction.CONT;
            default -> throw new UsageException("unknown command " + words.get(0));
        };
        if (hosts || json) {
            throw new UsageException(words.get(0) + " takes no --hosts or --json");
        }
        if (words.size() < 2) {
            throw new UsageException(words.get(0) + " needs the id of a logical host (see lhosts)");
        }
        return new LhostsArguments(Mode.CONTROL, false, action, List.copyOf(words.subList(1, words.size())));
    }
}
