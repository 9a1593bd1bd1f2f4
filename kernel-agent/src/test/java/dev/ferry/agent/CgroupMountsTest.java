package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CgroupMountsTest {
    static final String MOUNTINFO = """
            24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
            37 31 0:34 /outer /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
            50 24 0:40 / /mnt/with\\040space rw - tmpfs tmpfs rw
            """;
    static final String SELF = """
            6:freezer:/outer/pm1
            2:cpu,cpuacct:/pm1
            1:name=systemd:/
            0::/hosts/h1
            """;

    @Test
    void findsOwnDirectoryInEachHierarchy() {
        CgroupMounts m = new CgroupMounts(MOUNTINFO, SELF);
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/unified/hosts/h1")), m.unified());
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/freezer/pm1")), m.v1("freezer"), "relative to the mount root");
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/cpu,cpuacct/pm1")), m.v1("cpuacct"));
        assertEquals(Optional.empty(), m.v1("memory"));
    }

    @Test
    void rootCgroupAndMissingCgroup2() {
        CgroupMounts m = new CgroupMounts("37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n", "6:freezer:/\n");
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/freezer")), m.v1("freezer"));
        assertEquals(Optional.empty(), m.unified());
    }

    @Test
    void unescapesMountPoints() {
        assertEquals("/mnt/with space", CgroupMounts.unescape("/mnt/with\\040space"));
    }
}
