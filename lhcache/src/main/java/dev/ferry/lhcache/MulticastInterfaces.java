package dev.ferry.lhcache;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.List;

/** Picks the interface a group channel joins on when the configuration names none. */
final class MulticastInterfaces {
    private MulticastInterfaces() {}

    /**
     * The first interface that is up, multicast-capable, not loopback and has an IPv4 address:
     * on a workstation (or a vcluster namespace host) that is the LAN interface. Loopback, which
     * carries multicast on Linux once named explicitly, is the fallback for a machine with no LAN.
     */
    static NetworkInterface pickDefault() throws IOException {
        NetworkInterface loopback = null;
        for (NetworkInterface nif : all()) {
            if (!nif.isUp() || !hasIpv4(nif)) {
                continue;
            }
            if (nif.isLoopback()) {
                loopback = loopback == null ? nif : loopback;
            } else if (nif.supportsMulticast()) {
                return nif;
            }
        }
        if (loopback == null) {
            throw new IOException("no interface is up with an IPv4 address to join the multicast group on");
        }
        return loopback;
    }

    private static List<NetworkInterface> all() throws SocketException {
        return Collections.list(NetworkInterface.getNetworkInterfaces());
    }

    private static boolean hasIpv4(NetworkInterface nif) {
        return nif.inetAddresses().anyMatch(a -> a instanceof Inet4Address);
    }
}
