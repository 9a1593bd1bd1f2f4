package dev.ferry.pm;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `bin/program-manager`: the daemon's command line. */
@Command(name = "program-manager", mixinStandardHelpOptions = true, version = "Ferry 0.1",
        description = "Ferry's per-host daemon: runs guest programs in logical hosts, answers the program-manager group.")
public final class ProgramManagerMain implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger(ProgramManagerMain.class.getName());

    @Option(names = "--host", required = true, description = "this host's name in the cluster")
    String host;
    @Option(names = "--address", required = true, description = "IP address other managers reach this one at")
    String address;
    @Option(names = "--port", defaultValue = "7350", description = "gRPC port (default ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--group", defaultValue = "239.255.73.50", description = "multicast group (default ${DEFAULT-VALUE})")
    String group;
    @Option(names = "--group-port", defaultValue = "7351", description = "multicast port (default ${DEFAULT-VALUE})")
    int groupPort;
    @Option(names = "--interface", defaultValue = "", description = "network interface for the group (default: the system's choice)")
    String iface;
    @Option(names = "--state-dir", defaultValue = "/var/lib/ferry", description = "state directory (default ${DEFAULT-VALUE})")
    Path stateDir;
    @Option(names = "--socket", defaultValue = "/run/ferry/pm.sock", description = "Unix socket for local users' commands (default ${DEFAULT-VALUE})")
    Path socket;
    @Option(names = "--key", defaultValue = "/etc/ferry/cluster.key", description = "cluster key file, root-only (default ${DEFAULT-VALUE})")
    Path key;
    @Option(names = "--cgroup-name", defaultValue = "ferry", description = "cgroup under this manager's own cgroup that holds the LHs (default ${DEFAULT-VALUE})")
    String cgroupName;
    @Option(names = "--guest-nice", defaultValue = "19", description = "nice value of guest programs (default ${DEFAULT-VALUE}: lowest priority)")
    int guestNice;
    @Option(names = "--owner-uid", description = "uid of this workstation's owner, who may act on every guest here")
    Integer ownerUid;
    @Option(names = "--no-guests", description = "never volunteer for '@ *' (explicit @ HOST still works)")
    boolean noGuests;
    @Option(names = "--max-load", description = "volunteer only below this load (default: 2 per CPU core)")
    Double maxLoad;
    @Option(names = "--min-free-mem", defaultValue = "268435456", description = "bytes of memory kept free for the owner (default ${DEFAULT-VALUE})")
    long minFreeMem;
    @Option(names = "--load-average-weight", defaultValue = "1.0", description = "weight of the load average in the host's load (default ${DEFAULT-VALUE})")
    double loadAverageWeight;
    @Option(names = "--answer-delay-ms-per-load", defaultValue = "1.0", description = "delay of a volunteer's answer per unit of load (default ${DEFAULT-VALUE})")
    double answerDelayPerLoad;
    @Option(names = "--max-answer-delay-ms", defaultValue = "50", description = "cap on that delay (default ${DEFAULT-VALUE})")
    double maxAnswerDelay;

    @Option(names = "--dirty-tracker", defaultValue = "auto", description = "dirty-page tracker for pre-copy: auto, uffd-wp, soft-dirty or hash (default ${DEFAULT-VALUE}: the first of those that works here)")
    String dirtyTracker;
    @Option(names = "--precopy-max-rounds", defaultValue = "30", description = "pre-copy rounds at most before the freeze (default ${DEFAULT-VALUE})")
    int precopyMaxRounds;
    @Option(names = "--precopy-freeze-target-ms", defaultValue = "5", description = "freeze once the dirty pages can be sent within this time at the measured copy rate (default ${DEFAULT-VALUE})")
    double precopyFreezeTargetMs;
    @Option(names = "--precopy-min-shrink", defaultValue = "0.8", description = "freeze when two rounds in a row dirty more than this fraction of the previous one (default ${DEFAULT-VALUE})")
    double precopyMinShrink;

    /** Testing aid, hidden from --help: see TestFaults and README "Testing aids". */
    @Option(names = "--test-faults", hidden = true, defaultValue = "none")
    String testFaults;

    @Override
    public Integer call() throws Exception {
        dev.ferry.pm.peer.TestFaults faults;
        try {
            faults = dev.ferry.pm.peer.TestFaults.parse(testFaults);
        } catch (IllegalArgumentException e) {
            System.err.println("program-manager: " + e.getMessage());
            return 2;
        }
        if (!dirtyTracker.equals("auto") && !dev.ferry.agent.dirty.DirtyTrackers.NAMES.contains(dirtyTracker)) {
            System.err.println("program-manager: --dirty-tracker must be auto, uffd-wp, soft-dirty or hash, not " + dirtyTracker);
            return 2;
        }
        dev.ferry.pm.migrate.PrecopyPolicy policy;
        try {
            policy = new dev.ferry.pm.migrate.PrecopyPolicy(precopyMaxRounds, precopyFreezeTargetMs, precopyMinShrink,
                    dev.ferry.pm.migrate.PrecopyPolicy.DEFAULT.minFinalBytes());
        } catch (IllegalArgumentException e) {
            System.err.println("program-manager: " + e.getMessage());
            return 2;
        }
        PmConfig config = new PmConfig(host, InetAddress.getByName(address), port, InetAddress.getByName(group), groupPort,
                iface, stateDir, socket, key, cgroupName, guestNice,
                ownerUid == null ? OptionalInt.empty() : OptionalInt.of(ownerUid), !noGuests,
                maxLoad != null ? maxLoad : 2.0 * Runtime.getRuntime().availableProcessors(), minFreeMem,
                loadAverageWeight, answerDelayPerLoad, maxAnswerDelay);
        ProgramManager pm = new ProgramManager(config, policy, dirtyTracker);
        pm.injectTestFaults(faults);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pm.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            pm.start();
        } catch (Exception e) {
            System.err.println("program-manager: cannot start: " + e.getMessage());
            LOG.log(java.util.logging.Level.FINE, "start failed", e);
            return 1;
        }
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        // Later options win, so scripts can give defaults that users override (vcluster up -- ARGS).
        System.exit(new CommandLine(new ProgramManagerMain()).setOverwrittenOptionsAllowed(true).execute(args));
    }
}
