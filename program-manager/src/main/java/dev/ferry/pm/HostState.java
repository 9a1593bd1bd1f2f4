package dev.ferry.pm;

import dev.ferry.agent.ProcFs;
import dev.ferry.pm.lh.HostedLh;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.pm.owner.IdleClock;
import dev.ferry.proto.v1.HostStatus;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * This host's figures for host selection: load (its guests' CPU, in cores, plus the load
 * average — namespace hosts on one machine share the load average, so the guests' part is
 * what tells them apart), free memory, guest count, how long the owner has been idle, and
 * whether it volunteers for guests: only with the owner idle for the threshold, the load under
 * its limit and enough memory free.
 */
public final class HostState {
    private final PmConfig config;
    private final LhRegistry registry;
    private final ProcFs proc;
    private final IdleClock idle;
    private final LongSupplier nanoClock;
    private final Map<String, Long> lastCpuMicros = new HashMap<>();
    private long lastSampleNanos;
    private volatile double guestCpu;
    private volatile String tracker = "probing";

    public HostState(PmConfig config, LhRegistry registry, ProcFs proc, IdleClock idle, LongSupplier nanoClock) {
        this.config = config;
        this.idle = idle;
        this.registry = registry;
        this.proc = proc;
        this.nanoClock = nanoClock;
        this.lastSampleNanos = nanoClock.getAsLong();
    }

    /** Called about once a second: the guests' CPU use since the last sample, in cores. */
    public synchronized void sample() {
        long now = nanoClock.getAsLong();
        long elapsedMicros = Math.max(1, (now - lastSampleNanos) / 1000);
        long used = 0;
        Map<String, Long> seen = new HashMap<>();
        for (HostedLh lh : registry.all()) {
            if (!lh.owner().guest() || lh.exit().isDone()) {
                continue;
            }
            long cpu = lh.launched().cgroup().cpuMicros();
            used += Math.max(0, cpu - lastCpuMicros.getOrDefault(lh.id(), cpu));
            seen.put(lh.id(), cpu);
        }
        lastCpuMicros.clear();
        lastCpuMicros.putAll(seen);
        lastSampleNanos = now;
        guestCpu = (double) used / elapsedMicros;
    }

    /** The dirty-page tracker live migration will use here, once the start-up probe has said. */
    public void tracker(String name) {
        tracker = name;
    }

    /** The tracker's name, or "probing" until the start-up probe has said. */
    public String tracker() {
        return tracker;
    }

    public double load() {
        return guestCpu + proc.loadAverage1() * config.loadAverageWeight();
    }

    /** Empty when this host volunteers for a guest of {@code memBytes}, else the reason it does not. */
    public String whyUnwilling(long memBytes) {
        if (!config.acceptGuests()) {
            return "configured not to accept guests";
        }
        if (idle.ownerActive()) {
            return "owner active: " + idle.describeActive();
        }
        double load = load();
        if (load > config.maxLoad()) {
            return String.format("load %.2f is above the limit %.2f", load, config.maxLoad());
        }
        long free = proc.memAvailableBytes();
        if (free - memBytes < config.minFreeMem()) {
            return String.format("only %d MiB free (keeps %d MiB for its owner)", free >> 20, config.minFreeMem() >> 20);
        }
        return "";
    }

    public HostStatus status() {
        String why = whyUnwilling(0);
        return HostStatus.newBuilder()
                .setHost(config.hostName())
                .setAddress(config.grpcAddress())
                .setLoad(load())
                .setFreeMem(proc.memAvailableBytes())
                .setGuests(registry.guestCount())
                .setWilling(why.isEmpty())
                .setWhyUnwilling(why)
                .setTracker(tracker)
                .setIdleS(idle.idleMillis() / 1000.0)
                .setOwnerActive(idle.ownerActive())
                .build();
    }
}
