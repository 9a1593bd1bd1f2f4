package dev.ferry.pm;

import dev.ferry.pm.owner.OwnerPolicy;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `bin/program-manager`: the daemon's command line. */
@Command(name = "program-manager", mixinStandardHelpOptions = true, version = "Ferry 0.1", sortOptions = false,
        description = "Ferry's per-host daemon: runs guest programs in logical hosts, answers the program-manager group.",
        footer = {"",
                "The owner is the person at this workstation. The owner is idle when nothing",
                "was read from the terminals (/dev/tty*, /dev/pts/*), the input devices",
                "(/dev/input/event*) and the --input-device paths for --idle-threshold; the",
                "host volunteers for '@ *' only then (and with its load under --max-load and",
                "--min-free-mem free). When input appears while guests run here, every guest",
                "moves to a willing host; one that cannot is frozen here (no CPU) until the",
                "owner is idle again or a host volunteers (with --no-destination kill, it is",
                "killed after --grace-period). Programs started here are never touched.",
                "Durations: 250ms, 3s, 1.5s, 5m, 1h (a bare number is seconds)."})
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
    @Option(names = "--idle-threshold", defaultValue = "5m", converter = DurationArg.class, paramLabel = "DURATION",
            description = "the owner counts as idle after this long without input: then the host volunteers, and guests frozen for the owner resume (default ${DEFAULT-VALUE})")
    Duration idleThreshold;
    @Option(names = "--no-destination", defaultValue = "freeze", paramLabel = "freeze|kill",
            description = "a guest no host takes when the owner returns is frozen here until the owner is idle or a host volunteers (freeze), or killed after the grace period (kill) (default ${DEFAULT-VALUE})")
    String noDestination;
    @Option(names = "--grace-period", defaultValue = "30s", converter = DurationArg.class, paramLabel = "DURATION",
            description = "with --no-destination kill: how long such a guest waits frozen for a host before it is killed (default ${DEFAULT-VALUE})")
    Duration gracePeriod;
    @Option(names = "--explicit-guests-when-active", defaultValue = "refuse", paramLabel = "refuse|accept",
            description = "a guest named explicitly (run prog @ THIS-HOST) while the owner is active is refused, saying why; or accepted, then moved on or frozen like any guest (default ${DEFAULT-VALUE})")
    String explicitGuests;
    @Option(names = "--reclaim-retry", defaultValue = "2s", converter = DurationArg.class, paramLabel = "DURATION",
            description = "how often guests frozen for the owner look for a willing host (default ${DEFAULT-VALUE})")
    Duration reclaimRetry;
    @Option(names = "--reclaim-parallel", defaultValue = "" + OwnerPolicy.DEFAULT_PARALLEL_MOVES, paramLabel = "N",
            description = "how many guests move away at once when the owner returns (default ${DEFAULT-VALUE})")
    int reclaimParallel;
    @Option(names = "--input-device", paramLabel = "PATH",
            description = "also watch PATH for the owner's input (repeatable)")
    List<Path> inputDevices = new ArrayList<>();
    @Option(names = "--only-input-devices",
            description = "watch only the --input-device paths, not the terminals and input devices (a vcluster host watching its own terminal)")
    boolean onlyInputDevices;

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
                loadAverageWeight, answerDelayPerLoad, maxAnswerDelay, ownerPolicy(), inputDevices, onlyInputDevices);
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

    private OwnerPolicy ownerPolicy() {
        OwnerPolicy.NoDestination action = switch (noDestination) {
            case "freeze" -> OwnerPolicy.NoDestination.FREEZE;
            case "kill" -> OwnerPolicy.NoDestination.KILL;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "--no-destination: '" + noDestination + "' is neither freeze nor kill");
        };
        boolean refuse = switch (explicitGuests) {
            case "refuse" -> true;
            case "accept" -> false;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "--explicit-guests-when-active: '" + explicitGuests + "' is neither refuse nor accept");
        };
        if (onlyInputDevices && inputDevices.isEmpty()) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--only-input-devices needs at least one --input-device");
        }
        try {
            return new OwnerPolicy(idleThreshold, gracePeriod, action, refuse, reclaimRetry, reclaimParallel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
    }

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        // Later options win, so scripts can give defaults that users override (vcluster up -- ARGS).
        System.exit(new CommandLine(new ProgramManagerMain()).setOverwrittenOptionsAllowed(true).execute(args));
    }
}
