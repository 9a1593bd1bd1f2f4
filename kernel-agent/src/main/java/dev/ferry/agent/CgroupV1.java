package dev.ferry.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An LH cgroup in the v1 freezer hierarchy, plus the cpuacct hierarchy (when mounted) for CPU
 * time. Without cpuacct, CPU time is summed over the live processes only.
 */
final class CgroupV1 implements LhCgroup {
    private final String lhId;
    private final Path freezer;
    private final Path cpuacct;   // null when there is no cpuacct hierarchy
    private volatile long lastCpuMicros;

    CgroupV1(String lhId, Path freezer, Path cpuacct) {
        this.lhId = lhId;
        this.freezer = freezer;
        this.cpuacct = cpuacct;
    }

    @Override
    public String lhId() {
        return lhId;
    }

    @Override
    public List<Path> procsFiles() {
        return cpuacct == null ? List.of(freezer.resolve("cgroup.procs"))
                : List.of(freezer.resolve("cgroup.procs"), cpuacct.resolve("cgroup.procs"));
    }

    /**
     * The v1 freezer may stay in FREEZING (a task in an uninterruptible sleep); writing FROZEN
     * again retries, as the kernel's freezer documentation says.
     */
    @Override
    public void freeze() throws IOException {
        Path state = freezer.resolve("freezer.state");
        boolean done = CgroupFiles.await(CgroupFiles.FREEZE_TIMEOUT, () -> {
            CgroupFiles.write(state, "FROZEN");
            return state().equals("FROZEN");
        });
        if (!done) {
            throw new IOException("cgroup " + freezer + " did not freeze within " + CgroupFiles.FREEZE_TIMEOUT + " (state " + state() + ")");
        }
    }

    @Override
    public void thaw() throws IOException {
        CgroupFiles.write(freezer.resolve("freezer.state"), "THAWED");
        if (!CgroupFiles.await(CgroupFiles.FREEZE_TIMEOUT, () -> state().equals("THAWED"))) {
            throw new IOException("cgroup " + freezer + " did not thaw (state " + state() + ")");
        }
    }

    @Override
    public boolean frozen() {
        try {
            return state().equals("FROZEN");
        } catch (IOException e) {
            if (CgroupFiles.gone(freezer)) {
                return false;
            }
            throw new UncheckedIOException(e);
        }
    }

    private String state() throws IOException {
        return CgroupFiles.read(freezer.resolve("freezer.state")).strip();
    }

    @Override
    public List<Integer> hostPids() {
        return CgroupFiles.pids(freezer.resolve("cgroup.procs"));
    }

    @Override
    public long cpuMicros() {
        if (cpuacct == null) {
            lastCpuMicros = Math.max(lastCpuMicros, LiveCpuTime.micros(hostPids()));
            return lastCpuMicros;
        }
        try {
            lastCpuMicros = Long.parseLong(CgroupFiles.read(cpuacct.resolve("cpuacct.usage")).strip()) / 1000;
            return lastCpuMicros;
        } catch (IOException e) {
            if (CgroupFiles.gone(cpuacct)) {
                return lastCpuMicros;
            }
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void killAll() {
        try {
            KillLoop.run(this, freezer);
        } catch (IOException e) {
            if (!CgroupFiles.gone(freezer)) {   // removed meanwhile: nothing was left to kill
                throw new UncheckedIOException("killing LH " + lhId, e);
            }
        }
    }

    @Override
    public void remove() {
        List<Path> dirs = new ArrayList<>(List.of(freezer));
        if (cpuacct != null) {
            dirs.add(cpuacct);
        }
        for (Path dir : dirs) {
            if (Files.exists(dir)) {
                CgroupFiles.removeDir(dir, CgroupFiles.EMPTY_TIMEOUT);
            }
        }
    }

    @Override
    public String toString() {
        return cpuacct == null ? freezer.toString() : freezer + " + " + cpuacct;
    }
}
