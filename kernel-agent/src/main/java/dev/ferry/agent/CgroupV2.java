package dev.ferry.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** An LH cgroup in the cgroup2 hierarchy: cgroup.freeze, cgroup.events, cgroup.kill, cpu.stat. */
final class CgroupV2 implements LhCgroup {
    private final String lhId;
    private final Path dir;
    private volatile long lastCpuMicros;

    CgroupV2(String lhId, Path dir) {
        this.lhId = lhId;
        this.dir = dir;
    }

    @Override
    public String lhId() {
        return lhId;
    }

    @Override
    public List<Path> procsFiles() {
        return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public void freeze() throws IOException {
        setFrozen(true);
    }

    @Override
    public void thaw() throws IOException {
        setFrozen(false);
    }

    /** Writing cgroup.freeze only asks; cgroup.events says when every task has stopped. */
    private void setFrozen(boolean frozen) throws IOException {
        CgroupFiles.write(dir.resolve("cgroup.freeze"), frozen ? "1" : "0");
        if (!CgroupFiles.await(CgroupFiles.FREEZE_TIMEOUT, () -> events("frozen") == (frozen ? 1 : 0))) {
            throw new IOException("cgroup " + dir + " did not " + (frozen ? "freeze" : "thaw") + " within " + CgroupFiles.FREEZE_TIMEOUT);
        }
    }

    @Override
    public boolean frozen() {
        try {
            return events("frozen") == 1;
        } catch (IOException e) {
            if (CgroupFiles.gone(dir)) {
                return false;
            }
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<Integer> hostPids() {
        return CgroupFiles.pids(dir.resolve("cgroup.procs"));
    }

    @Override
    public long cpuMicros() {
        try {
            lastCpuMicros = CgroupFiles.keyedValue(CgroupFiles.read(dir.resolve("cpu.stat")), "usage_usec").orElse(0);
            return lastCpuMicros;
        } catch (IOException e) {
            if (CgroupFiles.gone(dir)) {
                return lastCpuMicros;
            }
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void killAll() {
        try {
            Path kill = dir.resolve("cgroup.kill");
            if (Files.exists(kill)) {
                CgroupFiles.write(kill, "1");   // the kernel also catches processes forked meanwhile
            } else {
                KillLoop.run(this, dir);
            }
            CgroupFiles.await(CgroupFiles.EMPTY_TIMEOUT, () -> events("populated") == 0);
        } catch (IOException e) {
            if (!CgroupFiles.gone(dir)) {   // removed meanwhile: nothing was left to kill
                throw new UncheckedIOException("killing LH " + lhId, e);
            }
        }
    }

    @Override
    public void remove() {
        CgroupFiles.removeDir(dir, CgroupFiles.EMPTY_TIMEOUT);
    }

    private long events(String key) throws IOException {
        return CgroupFiles.keyedValue(CgroupFiles.read(dir.resolve("cgroup.events")), key).orElse(0);
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
