package dev.ferry.lhcache;

import dev.ferry.proto.v1.Datagram;
import java.net.InetSocketAddress;

/**
 * A verified datagram (good MAC, fresh, not a replay) and the socket address it came from, which
 * is where {@link GroupChannel#reply} sends the answer.
 */
public record Received(Datagram datagram, InetSocketAddress from) {}
