package dev.ferry.cli;

import dev.ferry.proto.v1.CheckpointReply;
import dev.ferry.proto.v1.CheckpointRequest;
import dev.ferry.proto.v1.CheckpointResult;
import dev.ferry.proto.v1.LocalRequest;
import dev.ferry.proto.v1.MigrateProgress;
import dev.ferry.proto.v1.MigrateReply;
import dev.ferry.proto.v1.MigrateRequest;
import dev.ferry.proto.v1.MigrateResult;
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
        LocalCommand.main(Migrateprog::new, args);
    }

    @Override
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
        try {
            return arguments.checkpointDir().isEmpty() ? migrate(arguments) : checkpoint(arguments);
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

    private int migrate(MigrateprogArguments arguments) throws IOException, ManagerSocket.UnreachableException {
        boolean showProgress = arguments.progress().equals("on") || arguments.progress().equals("auto") && stderrIsTerminal();
        MigrateReply reply = ask(LocalRequest.newBuilder().setMigrate(MigrateRequest.newBuilder()
                .addAllTargets(arguments.targets()).setTo(arguments.to()).setDestroyIfStuck(arguments.destroyIfStuck())
                .setNoPrecopy(arguments.noPrecopy())).build(), MigrateReply.parser(), MigrateReply::hasProgress,
                r -> {
                    if (showProgress) {
                        diagnostics.line(progressLine(r.getProgress()));
                    }
                });
        if (reply.hasError()) {
            diagnostics.say(reply.getError().getMessage());
            return exitCodeOf(reply.getError().getCode());
        }
        StringBuilder out = new StringBuilder();
        int code = DONE;
        for (MigrateResult r : reply.getResultsList()) {
            out.append(arguments.json() ? json(r) : text(r)).append('\n');
            if (!r.getMoved()) {
                diagnostics.say(r.getLhId() + (r.getDestroyed() ? " destroyed: " : " stays on " + r.getFrom() + ": ") + r.getError());
                code = NOT_ALL_DONE;
            }
        }
        int printed = print(out.toString());
        return Math.max(code, printed);
    }

    static String progressLine(MigrateProgress p) {
        if (p.getPhase().equals("precopy")) {
            return String.format("migrateprog: %s (%s) -> %s: round %d, %.1f MB sent (%.1f MB this round), dirtied %.1f MB/s",
                    p.getLhId(), p.getProgram(), p.getTo(), p.getRound(), p.getBytesSent() / 1e6, p.getRoundBytes() / 1e6,
                    p.getDirtyMbS());
        }
        return String.format("migrateprog: %s (%s) -> %s: %s, %.1f MB sent", p.getLhId(), p.getProgram(), p.getTo(),
                p.getPhase().equals("freeze") ? "frozen, sending the rest" : "committing", p.getBytesSent() / 1e6);
    }

    /** Whether fd 2 is a terminal (progress is for people watching). */
    private static boolean stderrIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static String json(MigrateResult r) {
        Json j = new Json().string("lh", r.getLhId()).string("program", r.getProgram()).string("from", r.getFrom())
                .string("to", r.getTo()).number("rounds", r.getRounds()).unsigned("bytes", r.getBytes())
                .number("freeze_ms", round(r.getFreezeMs())).number("total_ms", round(r.getTotalMs()))
                .bool("moved", r.getMoved()).bool("destroyed", r.getDestroyed());
        if (r.getMoved()) {
            j.unsignedList("round_pages", r.getRoundPagesList()).unsigned("resident_bytes", r.getResidentBytes())
                    .string("tracker", r.getTracker());
        }
        if (!r.getError().isEmpty()) {
            j.string("error", r.getError());
        }
        return j.toString();
    }

    static String text(MigrateResult r) {
        if (!r.getMoved()) {
            // A move that failed early may not know the program's name: no empty "()".
            String program = r.getProgram().isEmpty() ? "" : " (" + r.getProgram() + ")";
            return String.format("%s%s %s %s", r.getLhId(), program, r.getDestroyed() ? "destroyed on" : "stays on", r.getFrom());
        }
        String how = r.getTracker().isEmpty() ? "stop-and-copy"
                : r.getRounds() + (r.getRounds() == 1 ? " pre-copy round (" : " pre-copy rounds (") + r.getTracker() + ")";
        return String.format("%s (%s) moved %s -> %s: %s, pages per round %s, %.1f MiB sent (resident %.1f MiB), frozen %.1f ms,"
                        + " %.1f ms in all", r.getLhId(), r.getProgram(), r.getFrom(), r.getTo(), how, r.getRoundPagesList(),
                r.getBytes() / 1048576.0, r.getResidentBytes() / 1048576.0, r.getFreezeMs(), r.getTotalMs());
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
            + "Without --checkpoint: moves PROG (every match here that is yours), LH LHID, or with neither\n"
            + "every guest program on this host to HOST (--to) or any willing host, while it runs: the\n"
            + "destination builds it while pre-copy rounds send its pages (first all, then those written\n"
            + "meanwhile), then it is frozen briefly for the last pages and its state, and resumes there;\n"
            + "its run keeps every byte of output and input.\n"
            + "  -n                 destroy a program no host takes (else it stays)\n"
            + "  --to HOST|'*'      the destination (default: any willing host but this one)\n"
            + "  --no-precopy       freeze it for the whole copy (stop-and-copy, for comparison)\n"
            + "  --progress         progress lines on stderr (default when stderr is a terminal)\n"
            + "  --quiet            no progress lines\n"
            + "  --json             one JSON object per LH: lh, program, from, to, rounds, bytes, freeze_ms,\n"
            + "                     total_ms, moved, destroyed; when moved also round_pages, resident_bytes,\n"
            + "                     tracker; else error\n"
            + "Exit status: 0 done, 1 not done (the reason on stderr), 2 usage, 255 Ferry failed.\n";
}
