package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads /proc under a configurable root. The parsers are static and take the file's text, so
 * tests feed them fixtures. A process that is gone (or vanishes while being read) reads as
 * empty: {@link Optional#empty()}, {@link OptionalInt#empty()} or "".
 */
public final class ProcFs {
    private final Path root;

    public ProcFs(Path procRoot) {
        this.root = procRoot;
    }

    public static ProcFs host() {
        return new ProcFs(Path.of("/proc"));
    }

    public Optional<ProcStatus> status(int pid) {
        return read(pid + "/status").map(ProcFs::parseStatus);
    }

    /** Parses /proc/PID/status: Name, State, PPid, NSpid (Pid on kernels without it), Uid, Gid. */
    public static ProcStatus parseStatus(String text) {
        String name = null;
        char state = '?';
        int ppid = -1;
        int uid = -1;
        int gid = -1;
        int[] pids = null;
        int[] pid = null;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "Name" -> name = value;
                case "State" -> state = value.isEmpty() ? '?' : value.charAt(0);
                case "PPid" -> ppid = Integer.parseInt(value);
                case "Pid" -> pid = numbers(value);
                case "NSpid" -> pids = numbers(value);
                case "Uid" -> uid = numbers(value)[0];
                case "Gid" -> gid = numbers(value)[0];
                default -> { }
            }
        }
        if (name == null || (pids == null && pid == null)) {
            throw new IllegalArgumentException("not a /proc/PID/status text");
        }
        return new ProcStatus(name, state, ppid, pids != null ? pids : pid, uid, gid);
    }

    /** The process group of {@code pid}, from /proc/PID/stat. */
    public OptionalInt processGroup(int pid) {
        Optional<String> stat = read(pid + "/stat");
        return stat.isPresent() ? OptionalInt.of(parseStatProcessGroup(stat.get())) : OptionalInt.empty();
    }

    /** /proc/PID/stat is "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses. */
    static int parseStatProcessGroup(String stat) {
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(rest[2]);
    }

    /** argv joined by spaces, "" if the process is gone (or is a kernel thread). */
    public String cmdline(int pid) {
        return read(pid + "/cmdline").map(ProcFs::parseCmdline).orElse("");
    }

    static String parseCmdline(String raw) {
        String trimmed = raw.endsWith("\0") ? raw.substring(0, raw.length() - 1) : raw;
        return trimmed.replace('\0', ' ');
    }

    public double loadAverage1() {
        return parseLoadAverage1(read("loadavg").orElseThrow(() -> new IllegalStateException("no " + root + "/loadavg")));
    }

    static double parseLoadAverage1(String loadavg) {
        return Double.parseDouble(loadavg.strip().split("\\s+")[0]);
    }

    public long memAvailableBytes() {
        return parseMemAvailable(read("meminfo").orElseThrow(() -> new IllegalStateException("no " + root + "/meminfo")));
    }

    static long parseMemAvailable(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemAvailable:")) {
                String[] parts = line.substring("MemAvailable:".length()).strip().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;   // the kernel prints kB
            }
        }
        throw new IllegalArgumentException("no MemAvailable line");
    }

    private static int[] numbers(String value) {
        String[] parts = value.split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    /** The file's text, or empty if the process (or file) is gone; ESRCH shows up as an IOException. */
    private Optional<String> read(String relative) {
        try {
            return Optional.of(ProcText.read(root.resolve(relative)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
