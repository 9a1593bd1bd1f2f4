package dev.ferry.agent.checkpoint;

import java.util.ArrayList;
import java.util.List;

/** The lines of /proc/PID/status a capture needs. */
record ProcessStatus(String name, char state, int threads, int tracerPid, int[] uids, int[] gids, List<Integer> groups,
                     int umask, long threadPending, long sharedPending, int[] nsPids) {

    static ProcessStatus parse(String text) {
        String name = "";
        char state = '?';
        int threads = 1, tracer = 0, umask = 022;
        int[] uids = new int[4], gids = new int[4], nsPids = new int[0];
        List<Integer> groups = new ArrayList<>();
        long pnd = 0, shd = 0;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String v = line.substring(colon + 1).strip();
            switch (line.substring(0, colon)) {
                case "Name" -> name = v;
                case "State" -> state = v.isEmpty() ? '?' : v.charAt(0);
                case "Threads" -> threads = Integer.parseInt(v);
                case "TracerPid" -> tracer = Integer.parseInt(v);
                case "Umask" -> umask = Integer.parseInt(v, 8);
                case "Uid" -> uids = ints(v);
                case "Gid" -> gids = ints(v);
                case "NSpid" -> nsPids = ints(v);
                case "Groups" -> {
                    for (int g : ints(v)) {
                        groups.add(g);
                    }
                }
                case "SigPnd" -> pnd = Long.parseUnsignedLong(v, 16);
                case "ShdPnd" -> shd = Long.parseUnsignedLong(v, 16);
                default -> { }
            }
        }
        return new ProcessStatus(name, state, threads, tracer, uids, gids, groups, umask, pnd, shd, nsPids);
    }

    private static int[] ints(String v) {
        if (v.isEmpty()) {
            return new int[0];
        }
        String[] parts = v.split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = (int) Long.parseLong(parts[i]);
        }
        return out;
    }
}
