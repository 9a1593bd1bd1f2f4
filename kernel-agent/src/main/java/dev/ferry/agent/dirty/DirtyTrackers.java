package dev.ferry.agent.dirty;

import dev.ferry.agent.ptrace.TracerThread;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Names, construction and the kernel probe of the three {@link DirtyTracker}s. The probe
 * tries each on a real child process (a {@code sleep} started through a shell, so it is not a
 * child of this JVM whose process reaper would swallow ptrace stops), because a kernel
 * version or a config file does not tell whether a feature really works: this project's kernel
 * accepts clear_refs "4" but never sets a soft-dirty bit.
 */
public final class DirtyTrackers {
    public static final String SOFT_DIRTY = "soft-dirty", UFFD_WP = "uffd-wp", HASH = "hash";
    /** In order of preference: uffd-wp never stops the program; soft-dirty stops it each round. */
    public static final List<String> NAMES = List.of(UFFD_WP, SOFT_DIRTY, HASH);

    /** One tracker's probe outcome; {@code detail} says why it does not work. */
    public record Probe(String tracker, boolean works, String detail) {}

    private DirtyTrackers() {}

    /** The preferred tracker that works on this kernel ("hash" always does). */
    public static String probe() {
        for (Probe p : probeAll()) {
            if (p.works()) {
                return p.tracker();
            }
        }
        return HASH;
    }

    /** Every tracker's probe, in order of preference. */
    public static List<Probe> probeAll() {
        List<Probe> out = new ArrayList<>();
        for (String name : NAMES) {
            out.add(probe(name));
        }
        return out;
    }

    /** Probes one tracker on a fresh child process. */
    public static Probe probe(String name) {
        try (ProbeChild child = ProbeChild.start(); TracerThread tracer = new TracerThread("ferry-dirty-probe")) {
            String problem = switch (name) {
                case SOFT_DIRTY -> child.softDirtyProblem();
                case UFFD_WP, HASH -> child.trackerProblem(open(name, child.pid(), tracer));
                default -> throw new IllegalArgumentException("no dirty tracker named " + name);
            };
            return new Probe(name, problem == null, problem == null ? "works" : problem);
        } catch (IOException | RuntimeException e) {
            return new Probe(name, false, String.valueOf(e.getMessage()));
        }
    }

    /** A tracker for a process nobody traces yet: it is seized on {@code tracer} when needed, then let go. */
    public static DirtyTracker open(String name, int hostPid, TracerThread tracer) {
        return open(name, hostPid, TargetStop.seizeAllThreads(tracer, hostPid));
    }

    /** A tracker that stops the target (uffd-wp: once, at start; soft-dirty: each round) through {@code stop}. */
    public static DirtyTracker open(String name, int hostPid, TargetStop stop) {
        return switch (name) {
            case SOFT_DIRTY -> new SoftDirtyTracker(hostPid, stop);
            case UFFD_WP -> new UffdWpTracker(hostPid, stop);
            case HASH -> new HashTracker(hostPid);
            default -> throw new IllegalArgumentException("no dirty tracker named " + name + " (known: " + NAMES + ")");
        };
    }
}
