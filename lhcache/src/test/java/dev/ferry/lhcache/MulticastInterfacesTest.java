package dev.ferry.lhcache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.NetworkInterface;
import org.junit.jupiter.api.Test;

class MulticastInterfacesTest {
    @Test
    void theDefaultIsUpWithAnIpv4AddressAndPrefersAMulticastLan() throws Exception {
        NetworkInterface chosen = MulticastInterfaces.pickDefault();
        assertTrue(chosen.isUp());
        assertTrue(chosen.inetAddresses().anyMatch(a -> a instanceof Inet4Address));
        boolean lanExists = NetworkInterface.networkInterfaces().anyMatch(n -> {
            try {
                return n.isUp() && !n.isLoopback() && n.supportsMulticast()
                        && n.inetAddresses().anyMatch(a -> a instanceof Inet4Address);
            } catch (java.net.SocketException e) {
                return false;
            }
        });
        assertTrue(!lanExists || !chosen.isLoopback(), "chose " + chosen.getName() + " although a LAN interface exists");
    }
}
