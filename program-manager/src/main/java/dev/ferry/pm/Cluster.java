package dev.ferry.pm;

import dev.ferry.lhcache.Binding;
import dev.ferry.lhcache.GroupChannel;
import dev.ferry.lhcache.HostDirectory;
import dev.ferry.lhcache.LhCache;
import dev.ferry.pm.group.GroupResponder;
import dev.ferry.pm.group.HostSelector;
import dev.ferry.pm.peer.PeerClients;
import dev.ferry.proto.v1.Datagram;
import dev.ferry.proto.v1.ErrorCode;
import dev.ferry.proto.v1.WhoIsHost;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** How this manager finds the rest of the cluster: hosts by name, hosts for `*`, LHs by id. */
public final class Cluster {
    private final PmConfig config;
    private final GroupChannel group;
    private final HostDirectory hosts;
    private final LhCache lhs;
    private final HostSelector selector;
    private final PeerClients peers;

    public Cluster(PmConfig config, GroupChannel group, HostDirectory hosts, LhCache lhs, HostSelector selector, PeerClients peers) {
        this.config = config;
        this.group = group;
        this.hosts = hosts;
        this.lhs = lhs;
        this.selector = selector;
        this.peers = peers;
    }

    public String selfHost() {
        return config.hostName();
    }

    public String selfAddress() {
        return config.grpcAddress();
    }

    public PeerClients peers() {
        return peers;
    }

    public LhCache lhCache() {
        return lhs;
    }

    /** Where to run a program: "" this host, "*" or "any" the first volunteer, else the named host. */
    public HostSelector.Choice destination(String dest) throws FerryException {
        if (dest.isEmpty() || dest.equals(config.hostName())) {
            return new HostSelector.Choice(config.hostName(), config.grpcAddress());
        }
        if (isAnyHost(dest)) {
            return selector.select(0, List.of());
        }
        return new HostSelector.Choice(dest, addressOf(dest));
    }

    /** "*" or "any": the first willing host. */
    public static boolean isAnyHost(String dest) {
        return dest.equals("*") || dest.equals("any");
    }

    /** A willing host, none of {@code hosts} (multicast selection). */
    public HostSelector.Choice selectExcluding(java.util.Collection<String> hosts) throws FerryException {
        return selector.select(0, hosts);
    }

    /** A willing host other than this one (multicast selection). */
    public HostSelector.Choice selectOther() throws FerryException {
        return selector.select(0, List.of(config.hostName()));
    }

    public String addressOf(String host) throws FerryException {
        if (host.equals(config.hostName())) {
            return config.grpcAddress();
        }
        return hosts.resolve(host).orElseThrow(() -> FerryException.of(ErrorCode.NOT_FOUND,
                "unknown host '%s': no program manager answered for it (see lhosts --hosts)", host));
    }

    public void hostUnreachable(String host, String address) {
        hosts.invalidate(host, address);
    }

    public Optional<Binding> locate(String lhId) {
        return lhs.resolve(lhId);
    }

    public void forgetBinding(String lhId, String address) {
        lhs.invalidate(lhId, address);
    }

    /** Every manager that answers "who is host *" within the window: host name -> address. */
    public Map<String, String> allHosts(Duration window) {
        Map<String, String> found = new TreeMap<>();
        found.put(config.hostName(), config.grpcAddress());
        for (Datagram d : group.askAll(Datagram.newBuilder().setWhoIsHost(WhoIsHost.newBuilder().setHost(GroupResponder.ANY_HOST)),
                Datagram::hasHostIs, window)) {
            found.put(d.getHostIs().getHost(), d.getHostIs().getAddress());
            hosts.learn(d.getHostIs().getHost(), d.getHostIs().getAddress());
        }
        return found;
    }
}
