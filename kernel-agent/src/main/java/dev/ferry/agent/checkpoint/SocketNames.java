package dev.ferry.agent.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Describes a socket inode for a refusal ("a TCP socket to 198.18.0.3:5432") from the
 * /proc/PID/net tables of the process' network namespace.
 */
final class SocketNames {
    private SocketNames() {}

    static String describe(Path procPid, long inode) {
        String[][] tables = {{"tcp", "TCP"}, {"tcp6", "TCP6"}, {"udp", "UDP"}, {"udp6", "UDP6"}};
        for (String[] t : tables) {
            String found = lookup(procPid.resolve("net").resolve(t[0]), inode, t[1]);
            if (found != null) {
                return found;
            }
        }
        try {
            for (String line : Files.readAllLines(procPid.resolve("net/unix"))) {
                String[] f = line.strip().split("\\s+");
                if (f.length >= 7 && f[6].equals(Long.toString(inode))) {
                    return "a Unix socket" + (f.length > 7 ? " " + f[7] : "");
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: an unknown kind of socket
        }
        return "a socket";
    }

    /** Lines: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". */
    static String lookup(Path table, long inode, String kind) {
        try {
            for (String line : Files.readAllLines(table)) {
                String[] f = line.strip().split("\\s+");
                if (f.length > 9 && f[9].equals(Long.toString(inode))) {
                    String remote = address(f[2]);
                    return remote.endsWith(":0") ? "a listening/unconnected " + kind + " socket on " + address(f[1])
                            : "a " + kind + " socket to " + remote;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** "0300A8C6:1538" (IPv4, little-endian) → "198.168.0.3:5432"; IPv6 shown as hex. */
    static String address(String hex) {
        String[] parts = hex.split(":");
        int port = Integer.parseInt(parts[1], 16);
        if (parts[0].length() == 8) {
            long a = Long.parseLong(parts[0], 16);
            return (a & 0xff) + "." + ((a >> 8) & 0xff) + "." + ((a >> 16) & 0xff) + "." + ((a >> 24) & 0xff) + ":" + port;
        }
        return "[" + parts[0] + "]:" + port;
    }
}
