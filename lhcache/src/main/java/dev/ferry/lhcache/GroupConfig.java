package dev.ferry.lhcache;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Objects;

/**
 * Where the program-manager group meets and who we are in it.
 *
 * @param group       an IPv4 multicast address (e.g. 239.255.x.y, administratively scoped)
 * @param port        the group's UDP port
 * @param iface       the interface to join and send on; null picks the first interface that is up,
 *                    multicast-capable, not loopback and has an IPv4 address (loopback if none)
 * @param hostName    this host's name, sent as {@code sender_host}
 * @param grpcAddress this PM's gRPC address {@code host:port}, sent as {@code sender_address}
 */
public record GroupConfig(InetAddress group, int port, NetworkInterface iface, String hostName, String grpcAddress) {
    public GroupConfig {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(grpcAddress, "grpcAddress");
        if (!(group instanceof Inet4Address) || !group.isMulticastAddress()) {
            throw new IllegalArgumentException("group must be an IPv4 multicast address, was " + group);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, was " + port);
        }
        if (hostName.isBlank()) {
            throw new IllegalArgumentException("hostName must not be blank");
        }
    }
}
