package dev.ferry.cli;

import dev.ferry.proto.v1.LhInfo;
import dev.ferry.proto.v1.ProcessInfo;
import java.util.ArrayList;
import java.util.List;

/** How {@code lhosts} shows logical hosts: an aligned table, or one JSON object per line. */
final class LhFormat {
    static final String[] HEADERS = {"ID", "HOST", "USER", "PROGRAM", "STATE", "PROCESSES"};

    private LhFormat() {
    }

    /** One row per process; the LH's own columns are filled on its first row only. */
    static String table(List<LhInfo> lhs) {
        TextTable table = new TextTable(HEADERS);
        for (LhInfo lh : lhs) {
            List<ProcessInfo> processes = lh.getProcessesList();
            table.add(lh.getId(), lh.getHost(), lh.getUser(), lh.getProgram(), lh.getState(),
                    processes.isEmpty() ? "-" : process(processes.get(0)));
            for (int i = 1; i < processes.size(); i++) {
                table.add("", "", "", "", "", process(processes.get(i)));
            }
        }
        return table.render();
    }

    /** {@code LHID.PID(host pid HPID) command}. */
    static String process(ProcessInfo process) {
        return process.getName() + "(host pid " + process.getHostPid() + ") " + process.getCommand();
    }

    static String json(LhInfo lh) {
        List<Json> processes = new ArrayList<>();
        for (ProcessInfo p : lh.getProcessesList()) {
            processes.add(new Json()
                    .string("name", p.getName())
                    .number("pid", p.getPid())
                    .number("host_pid", p.getHostPid())
                    .string("command", p.getCommand())
                    .string("state", p.getState()));
        }
        return new Json()
                .string("id", lh.getId())
                .string("host", lh.getHost())
                .string("user", lh.getUser())
                .string("program", lh.getProgram())
                .string("state", lh.getState())
                .bool("guest", lh.getGuest())
                .string("origin_host", lh.getOriginHost())
                .strings("argv", lh.getArgvList())
                .objects("processes", processes)
                .toString();
    }
}
