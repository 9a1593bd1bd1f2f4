package dev.ferry.pm;

import dev.ferry.agent.CgroupTree;
import dev.ferry.agent.LhLauncher;
import dev.ferry.agent.ProcFs;
import dev.ferry.agent.input.InputSources;
import dev.ferry.agent.dirty.DirtyTrackers;
import dev.ferry.lhcache.ClusterKey;
import dev.ferry.lhcache.GroupChannel;
import dev.ferry.lhcache.GroupConfig;
import dev.ferry.lhcache.HostDirectory;
import dev.ferry.lhcache.LhCache;
import dev.ferry.lhcache.ReplayGuard;
import dev.ferry.pm.group.GroupResponder;
import dev.ferry.pm.group.HostSelector;
import dev.ferry.pm.lh.LhRegistry;
import dev.ferry.pm.local.LocalServer;
import dev.ferry.pm.migrate.MigrationSource;
import dev.ferry.pm.migrate.PrecopyPolicy;
import dev.ferry.pm.migrate.MigrationTarget;
import dev.ferry.pm.owner.GuestAdmission;
import dev.ferry.pm.owner.HostedGuests;
import dev.ferry.pm.owner.IdleClock;
import dev.ferry.pm.owner.OwnerWatch;
import dev.ferry.pm.owner.ReclaimLoop;
import dev.ferry.pm.peer.LhHost;
import dev.ferry.pm.peer.PeerAuth;
import dev.ferry.pm.peer.PeerClients;
import dev.ferry.pm.peer.PeerService;
import dev.ferry.pm.peer.Permissions;
import dev.ferry.pm.peer.TestFaults;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** One host's program manager: wires the parts together and owns their life cycle. */
public final class ProgramManager implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ProgramManager.class.getName());
    static final Duration GROUP_ATTEMPT = Duration.ofMillis(200);
    static final int GROUP_ATTEMPTS = 3;

    private final PmConfig config;
    private final ExecutorService pool = Executors.newCachedThreadPool(daemon("pm-worker"));
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(1, daemon("pm-timer"));
    private GroupChannel group;
    private PeerClients peers;
    private Server grpc;
    private LocalServer local;
    private LhRegistry registry;
    private CgroupTree cgroups;
    private volatile ReclaimLoop reclaim;
    private OwnerWatch ownerWatch;

    private final PrecopyPolicy precopy;

    private TestFaults faults = TestFaults.NONE;

    public ProgramManager(PmConfig config) {
        this(config, PrecopyPolicy.DEFAULT, "auto");
    }

    /** Only for the fault-injection tests: faults this manager injects into its answers (see {@link TestFaults}). */
    public void injectTestFaults(TestFaults faults) {
        this.faults = faults;
        if (faults.active()) {
            LOG.warning("TEST FAULTS ACTIVE: " + faults + " -- this manager misbehaves on purpose; never use it outside tests");
        }
    }

    private final String dirtyTracker;

    /** {@code dirtyTracker}: "auto" (the best one that works here) or a tracker name. */
    public ProgramManager(PmConfig config, PrecopyPolicy precopy, String dirtyTracker) {
        this.config = config;
        this.precopy = precopy;
        this.dirtyTracker = dirtyTracker;
    }

    private static dev.ferry.proto.v1.HostFeatures hostFeatures(LhLauncher launcher) {
        try {
            return launcher.hostFeatures();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("learning this host's CPU features", e);
        }
    }

    public void start() throws IOException {
        Files.createDirectories(config.stateDir());
        ClusterKey key = ClusterKey.load(config.keyFile());
        ProcFs proc = ProcFs.host();
        cgroups = CgroupTree.probe(config.cgroupName());
        LOG.info("cgroups: " + cgroups.describe());
        List<String> leftovers = cgroups.removeEmptyLeftovers();
        if (!leftovers.isEmpty()) {
            LOG.info("removed empty LH cgroups a previous manager left: " + leftovers);
        }
        registry = new LhRegistry(config.hostName(),
                new LhLauncher(LhLauncher.defaultInitBinary(), cgroups, config.stateDir()), proc, System::currentTimeMillis);
        InputSources ownerInput = config.onlyInputDevices() ? InputSources.only(config.inputDevices())
                : InputSources.standard(Path.of("/dev"), config.inputDevices());
        IdleClock idle = startingIdleClock(ownerInput);
        HostState state = new HostState(config, registry, proc, idle, System::nanoTime);
        timer.scheduleAtFixedRate(state::sample, 1, 1, TimeUnit.SECONDS);
        pool.execute(() -> probeDirtyTracking(state));

        NetworkInterface iface = config.interfaceName().isEmpty() ? null : NetworkInterface.getByName(config.interfaceName());
        if (!config.interfaceName().isEmpty() && iface == null) {
            throw new IOException("no network interface " + config.interfaceName());
        }
        group = new GroupChannel(new GroupConfig(config.group(), config.groupPort(), iface, config.hostName(), config.grpcAddress()),
                key, System::currentTimeMillis);
        LhCache lhCache = new LhCache(group, GROUP_ATTEMPT, GROUP_ATTEMPTS);
        HostDirectory hosts = new HostDirectory(group, GROUP_ATTEMPT, GROUP_ATTEMPTS);
        GroupResponder responder = new GroupResponder(config, group, state, registry, lhCache, hosts, timer);

        PeerAuth auth = new PeerAuth(key, new ReplayGuard(Duration.ofSeconds(60), System::currentTimeMillis), System::currentTimeMillis);
        peers = new PeerClients(auth);
        GuestAdmission admission = new GuestAdmission(config.hostName(), idle, config.owner(), () -> {
            ReclaimLoop r = reclaim;
            if (r != null) {
                r.kick();
            }
        });
        LhHost lhHost = new LhHost(config.hostName(), registry, state, new Permissions(config.ownerUid()), config.guestNice(),
                id -> responder.announce(id, System.currentTimeMillis()), admission);
        Cluster cluster = new Cluster(config, group, hosts, lhCache,
                new HostSelector(group, GROUP_ATTEMPT, GROUP_ATTEMPTS), peers);
        LhLauncher launcher = registry.launcher();
        MigrationSource migrationSource = new MigrationSource(cluster, config.stateDir(), precopy, state::tracker,
                () -> hostFeatures(launcher));
        reclaim = ReclaimLoop.start(idle, config.owner(), new HostedGuests(registry, migrationSource), () -> volunteer(cluster));
        lhHost.migration(migrationSource,
                new MigrationTarget(config.hostName(), config.stateDir(), registry, id -> responder.announce(id, System.currentTimeMillis())));
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(config.address(), config.grpcPort()))
                .addService(ServerInterceptors.intercept(new PeerService(lhHost, faults), auth.serverInterceptor()))
                .maxInboundMessageSize(PeerClients.MAX_MESSAGE)
                .flowControlWindow(PeerClients.FLOW_WINDOW)
                .keepAliveTime(PeerClients.KEEPALIVE_TIME_S, TimeUnit.SECONDS)
                .keepAliveTimeout(PeerClients.KEEPALIVE_TIMEOUT_S, TimeUnit.SECONDS)
                // Peers ping as often as this side does; the default (5 min) would answer them with GOAWAY.
                .permitKeepAliveTime(PeerClients.KEEPALIVE_TIME_S / 2, TimeUnit.SECONDS)
                .executor(pool)
                .build()
                .start();
        group.start(responder::onDatagram);

        local = new LocalServer(config.socketPath(), cluster, pool);
        local.start();
        try {
            ownerWatch = OwnerWatch.start(ownerInput, idle, reclaim::kick);
        } catch (IOException e) {
            // Guests still run here; the owner's return just goes unseen, which the log says.
            LOG.severe("cannot watch the owner's input (" + e.getMessage() + "): this host never sees its owner return");
        }
        LOG.info(String.format("program manager %s serving gRPC on %s, group %s:%d, local socket %s",
                config.hostName(), config.grpcAddress(), config.group().getHostAddress(), config.groupPort(), config.socketPath()));
    }

    /**
     * The owner's idle time at start: since the newest access time of the watched devices (a
     * tty's moves in 8-second steps: good enough to start from), or since now when none can be read.
     */
    private IdleClock startingIdleClock(InputSources ownerInput) {
        long now = System.currentTimeMillis();
        var newest = ownerInput.newestAccessMillis();
        long idleMillis = newest.isPresent() ? Math.max(0, now - newest.getAsLong()) : 0;
        return new IdleClock(System::nanoTime, config.owner().idleThreshold(), idleMillis,
                newest.isPresent() ? "the devices' access times" : "manager start (no device readable)");
    }

    /** A willing host other than this one, for a guest frozen here; none when nobody answers. */
    private static Optional<String> volunteer(Cluster cluster) {
        try {
            return Optional.of(cluster.selectOther().host());
        } catch (FerryException e) {
            return Optional.empty();
        }
    }

    /** Probes on a real child which dirty-page tracker works on this kernel (in the background: it forks). */
    private void probeDirtyTracking(HostState state) {
        List<DirtyTrackers.Probe> probes = DirtyTrackers.probeAll();
        String chosen = probes.stream().filter(DirtyTrackers.Probe::works).map(DirtyTrackers.Probe::tracker)
                .findFirst().orElse(DirtyTrackers.HASH);
        if (!dirtyTracker.equals("auto")) {
            boolean works = probes.stream().anyMatch(p -> p.tracker().equals(dirtyTracker) && p.works());
            if (works) {
                chosen = dirtyTracker;
            } else {
                LOG.warning("--dirty-tracker " + dirtyTracker + " does not work on this kernel; using " + chosen);
            }
        }
        state.tracker(chosen);
        LOG.info("dirty-page tracking: " + chosen + " (" + probes.stream()
                .map(p -> p.tracker() + (p.works() ? " works" : " unavailable: " + p.detail()))
                .collect(java.util.stream.Collectors.joining("; ")) + ")");
    }

    @Override
    public void close() {
        LOG.info("program manager " + config.hostName() + " stopping");
        if (ownerWatch != null) {
            ownerWatch.close();
        }
        if (reclaim != null) {
            reclaim.close();
        }
        try {
            if (local != null) {
                local.close();
            }
        } catch (IOException ignored) {
            // socket file already gone
        }
        if (registry != null) {
            registry.killAll();
        }
        if (grpc != null) {
            grpc.shutdownNow();
        }
        if (peers != null) {
            peers.close();
        }
        if (group != null) {
            group.close();
        }
        if (cgroups != null) {
            cgroups.removeEmpty();
        }
        timer.shutdownNow();
        pool.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
