package dev.ferry.cli;

import dev.ferry.proto.v1.ControlReply;
import dev.ferry.proto.v1.ControlRequest;
import dev.ferry.proto.v1.FerryError;
import dev.ferry.proto.v1.HostStatus;
import dev.ferry.proto.v1.HostsReply;
import dev.ferry.proto.v1.HostsRequest;
import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ListReply;
import dev.ferry.proto.v1.ListRequest;
import dev.ferry.proto.v1.LocalRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code lhosts}: lists the logical hosts of the whole cluster, lists the hosts
 * ({@code --hosts}), or kills, stops or continues logical hosts. Exit codes: 0 done, 1 not
 * everything done (each failure named on stderr), 2 usage, 255 Ferry's own failure.
 */
public final class Lhosts extends LocalCommand {
    Lhosts(Path socket, OutputStream stdout, OutputStream stderr) {
        super(socket, stdout, stderr);
    }

    public static void main(String[] args) {
        LocalCommand.main(Lhosts::new, args);
    }

    @Override
    int execute(String[] args) {
        LhostsArguments arguments;
        try {
            arguments = LhostsArguments.parse(Arrays.asList(args));
        } catch (UsageException e) {
            diagnostics.say(e.getMessage());
            diagnostics.line(LhostsArguments.USAGE);
            return USAGE;
        }
        try {
            return switch (arguments.mode()) {
                case HELP -> print(HELP);
                case VERSION -> print("lhosts (Ferry) " + Version.get() + "\n");
                case LIST -> list(arguments.json());
                case HOSTS -> hosts(arguments.json());
                case CONTROL -> control(arguments);
            };
        } catch (ManagerSocket.UnreachableException e) {
            diagnostics.say(e.getMessage());
            return FERRY_FAILURE;
        } catch (IOException e) {
            diagnostics.say("lost the connection to the program manager: " + e.getMessage());
            return FERRY_FAILURE;
        }
    }

    private int list(boolean json) throws IOException, ManagerSocket.UnreachableException {
        ListReply reply = ask(LocalRequest.newBuilder().setList(ListRequest.getDefaultInstance()).build(),
                ListReply.parser());
        if (json) {
            StringBuilder out = new StringBuilder();
            for (LhInfo lh : reply.getLhsList()) {
                out.append(LhFormat.json(lh)).append('\n');
            }
            print(out.toString());
        } else {
            print(LhFormat.table(reply.getLhsList()));
        }
        for (FerryError error : reply.getErrorsList()) {
            diagnostics.say(error.getMessage());
        }
        return reply.getErrorsCount() == 0 ? DONE : NOT_ALL_DONE;
    }

    private int hosts(boolean json) throws IOException, ManagerSocket.UnreachableException {
        HostsReply reply = ask(LocalRequest.newBuilder().setHosts(HostsRequest.getDefaultInstance()).build(),
                HostsReply.parser());
        if (json) {
            StringBuilder out = new StringBuilder();
            for (HostStatus host : reply.getHostsList()) {
                out.append(HostFormat.json(host)).append('\n');
            }
            return print(out.toString());
        }
        return print(HostFormat.table(reply.getHostsList()));
    }

    /** One request per logical host; the worst outcome decides the exit code. */
    private int control(LhostsArguments arguments) throws IOException, ManagerSocket.UnreachableException {
        int code = DONE;
        for (String lhId : arguments.lhIds()) {
            ControlReply reply = ask(LocalRequest.newBuilder().setControl(ControlRequest.newBuilder()
                    .setLhId(lhId).setAction(arguments.action())).build(), ControlReply.parser());
            if (reply.hasError()) {
                diagnostics.say(lhId + ": " + reply.getError().getMessage());
                code = Math.max(code, exitCodeOf(reply.getError().getCode()));
            }
        }
        return code;
    }

    private static final String HELP = LhostsArguments.USAGE + "\n"
            + "\n"
            + "  lhosts              the logical hosts of the whole cluster:\n"
            + "                      ID HOST USER PROGRAM STATE PROCESSES (LHID.PID(host pid HPID) command)\n"
            + "  lhosts --hosts      the hosts: load, free memory, guests, whether they take guests\n"
            + "  --json              one JSON object per line instead of a table\n"
            + "  kill|stop|cont ID   kill, stop or continue logical host ID (prints nothing when done)\n"
            + "\n"
            + "Exit status: 0 done, 1 not everything done (named on stderr), 2 usage, 255 Ferry failed.\n";
}
