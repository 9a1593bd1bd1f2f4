package dev.ferry.agent.checkpoint;

import dev.ferry.agent.LhCgroup;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.ProcStatus;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Finds the one program process of a logical host: in the LH's pid namespace, not its init. */
final class ProgramProcess {
    private ProgramProcess() {}

    /**
     * Its host pid. An LH with no program process, or with more than one (refused naming the
     * lowest, the one the LH started with, and listing them all), cannot be captured.
     */
    static int find(String lhId, LhCgroup cgroup, ProcFs proc) throws CaptureRefusedException {
        TreeMap<Integer, ProcStatus> found = new TreeMap<>();   // by pid inside the LH
        for (int pid : cgroup.hostPids()) {
            ProcStatus s = proc.status(pid).orElse(null);
            if (s != null && s.nsPids().length >= 2 && s.innermostPid() != 1) {
                found.put(s.innermostPid(), s);
            }
        }
        if (found.isEmpty()) {
            throw new CaptureRefusedException(List.of("cannot migrate " + lhId + ": it has no program process (it has ended)"));
        }
        if (found.size() > 1) {
            ProcStatus first = found.firstEntry().getValue();
            throw new CaptureRefusedException(List.of("cannot migrate " + lhId + "." + first.innermostPid() + " (" + first.name()
                    + "): its logical host has " + found.size() + " processes (" + describe(found)
                    + "; only single-process logical hosts can move yet)"));
        }
        return found.firstEntry().getValue().outermostPid();
    }

    private static String describe(Map<Integer, ProcStatus> processes) {
        StringBuilder b = new StringBuilder();
        for (ProcStatus s : processes.values()) {
            b.append(b.length() == 0 ? "" : ", ").append(s.innermostPid()).append(' ').append(s.name());
        }
        return b.toString();
    }
}
