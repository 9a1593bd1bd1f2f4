package dev.ferry.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A private cgroup tree and launcher for one test class, which tracks every LH it starts and,
 * on close, kills and removes them and the tree's parent directories, even after a failure.
 */
final class TestLhs implements AutoCloseable {
    static final Path INIT = Path.of("target", "native", "ferry-init").toAbsolutePath();
    static final String PATH = "PATH=/usr/local/bin:/usr/bin:/bin";

    private static final AtomicInteger IDS = new AtomicInteger();

    final CgroupTree tree;
    final LhLauncher launcher;
    private final List<LaunchedLh> launched = new ArrayList<>();

    TestLhs(Path stateDir, boolean allowV2) throws IOException {
        this.tree = CgroupTree.probe("ferry-test-" + UUID.randomUUID().toString().substring(0, 8), allowV2);
        this.launcher = new LhLauncher(INIT, tree, stateDir);
    }

    /** A spec for root in /tmp with a plain PATH; tests derive variations with {@link #with}. */
    static LaunchSpec spec(String... argv) {
        return new LaunchSpec("t" + IDS.incrementAndGet(), Arrays.asList(argv), List.of(PATH), "/tmp", 022,
                0, 0, new int[0], List.of(), 0);
    }

    LaunchedLh launch(LaunchSpec spec) throws LaunchException {
        LaunchedLh lh = launcher.launch(spec);
        launched.add(lh);
        return lh;
    }

    static ProgramExit exit(LaunchedLh lh) throws Exception {
        return lh.exit().get(10, TimeUnit.SECONDS);
    }

    static CompletableFuture<String> readAll(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Cleans every LH even if one fails, then the parents; the first failure is rethrown. */
    @Override
    public void close() throws Exception {
        Exception first = null;
        try {
            for (LaunchedLh lh : launched) {
                try {
                    lh.cgroup().killAll();
                    lh.exit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    first = first == null ? e : first;
                } finally {
                    lh.cgroup().remove();
                }
            }
        } finally {
            tree.removeEmpty();
        }
        if (first != null) {
            throw first;
        }
    }
}
