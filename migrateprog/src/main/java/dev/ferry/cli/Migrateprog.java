package dev.ferry.cli;

import dev.ferry.proto.v1.CheckpointReply;
import dev.ferry.proto.v1.CheckpointRequest;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.LocalRequest;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code migrateprog}: moves programs off this host, or (with {@code --checkpoint DIR}) writes
 * a program's checkpoint image — the remote-fork paper's "file and NFS" route — and ends it
 * (or leaves it running). Exit codes: 0 done, 1 not everything done, 2 usage, 255 Ferry failed.
 */
public final class Migrateprog extends LocalCommand {
    Migrateprog(Path socket, OutputStream stdout, OutputStream stderr) {
        super(socket, stdout, stderr);
    }

    public static void main(String[] args) {
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        OutputStream stderr = new FileOutputStream(FileDescriptor.err);
        int code = new Migrateprog(ManagerSocket.path(System.getenv()), stdout, stderr).execute(args);
        Runtime.getRuntime().halt(code);
    }

    int execute(String[] args) {
        MigrateprogArguments arguments;
        try {
            arguments = MigrateprogArguments.parse(Arrays.asList(args));
        } catch (UsageException e) {
            diagnostics.say(e.getMessage());
            diagnostics.line(MigrateprogArguments.USAGE);
            return USAGE;
        }
        if (arguments.help()) {
            return print(HELP);
        }
        if (arguments.version()) {
            return print("migrateprog (Ferry) " + Version.get() + "\n");
        }
        if (arguments.checkpointDir().isEmpty()) {
            diagnostics.say("live migration is not available in this version yet; --checkpoint DIR works (see migrateprog --help)");
            return FERRY_FAILURE;
        }
        try {
            return checkpoint(arguments);
        } catch (ManagerSocket.UnreachableException e) {
            diagnostics.say(e.getMessage());
            return FERRY_FAILURE;
        } catch (IOException e) {
            diagnostics.say("lost the connection to the program manager: " + e.getMessage());
            return FERRY_FAILURE;
        }
    }

    private int checkpoint(MigrateprogArguments arguments) throws IOException, ManagerSocket.UnreachableException {
        String dir = Path.of(arguments.checkpointDir()).toAbsolutePath().normalize().toString();
        CheckpointReply reply = ask(LocalRequest.newBuilder().setCheckpoint(CheckpointRequest.newBuilder()
                .setTarget(arguments.targets().get(0)).setDir(dir).setLeaveRunning(arguments.leaveRunning())).build(),
                CheckpointReply.parser());
        if (reply.hasError()) {
            diagnostics.say(arguments.targets().get(0) + ": " + reply.getError().getMessage());
            return exitCodeOf(reply.getError().getCode());
        }
        StringBuilder out = new StringBuilder();
        for (CheckpointResult r : reply.getResultsList()) {
            out.append(arguments.json() ? json(r) : text(r)).append('\n');
        }
        return print(out.toString());
    }

    static String json(CheckpointResult r) {
        return new Json().string("lh", r.getLhId()).string("program", r.getProgram()).string("from", r.getHost())
                .string("dir", r.getDir()).unsigned("bytes", r.getBytes()).number("freeze_ms", round(r.getFreezeMs()))
                .number("total_ms", round(r.getTotalMs())).bool("left_running", r.getLeftRunning()).toString();
    }

    static String text(CheckpointResult r) {
        return String.format("%s (%s) on %s checkpointed to %s: %.1f MiB, stopped %.1f ms, %.1f ms in all%s",
                r.getLhId(), r.getProgram(), r.getHost(), r.getDir(), r.getBytes() / 1048576.0, r.getFreezeMs(),
                r.getTotalMs(), r.getLeftRunning() ? "; left running" : "");
    }

    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    private static final String HELP = MigrateprogArguments.USAGE + "\n"
            + "\n"
            + "  --checkpoint DIR   write PROG's (or LH LHID's) checkpoint image into DIR (created, yours),\n"
            + "                     then end it: a `run` attached to it gets all output written before,\n"
            + "                     then exits 255 with 'ferry: LHID checkpointed to DIR'.\n"
            + "                     Bring it back anywhere with: run --restart DIR [@ HOST|'*']\n"
            + "  --leave-running    the program goes on; a restart of the image is a fork (a new LH id)\n"
            + "  --json             one JSON object per LH: lh, program, from, dir, bytes, freeze_ms,\n"
            + "                     total_ms, left_running\n"
            + "  PROG               a program name (as lhosts shows it) on this host; LHID: any LH\n"
            + "\n"
            + "Live migration (without --checkpoint: -n, --to, --no-precopy) is not in this version yet.\n"
            + "Exit status: 0 done, 1 not done (the reason on stderr), 2 usage, 255 Ferry failed.\n";
}
