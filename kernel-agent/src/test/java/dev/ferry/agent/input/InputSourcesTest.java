package dev.ferry.agent.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputSourcesTest {
    @TempDir
    Path dev;

    private Path touch(String name) throws IOException {
        Path p = dev.resolve(name);
        Files.createDirectories(p.getParent());
        return Files.createFile(p);
    }

    @Test
    void standardListsTerminalsPtsAndEventDevicesButNotTheirNeighbours() throws IOException {
        for (String n : List.of("tty", "tty1", "ttyS0", "null", "pts/0", "pts/12", "pts/ptmx", "input/event3", "input/mouse0")) {
            touch(n);
        }
        Path extra = touch("extra-device");
        InputSources s = InputSources.standard(dev, List.of(extra));
        assertEquals(List.of(dev.resolve("tty"), dev.resolve("tty1"), dev.resolve("ttyS0"), dev.resolve("pts/0"),
                dev.resolve("pts/12"), dev.resolve("input/event3"), extra), s.devices());
        assertEquals(List.of(dev.resolve("pts"), dev.resolve("input")),
                s.directories().stream().map(InputSources.DeviceDirectory::dir).toList());
        assertTrue(s.directories().get(0).wants("7") && !s.directories().get(0).wants("ptmx"));
        assertTrue(s.directories().get(1).wants("event0") && !s.directories().get(1).wants("mice"));
    }

    @Test
    void withoutInputDirectoryOnlyPtsIsWatchedForNewDevices() throws IOException {
        touch("pts/1");
        assertEquals(List.of(dev.resolve("pts")),
                InputSources.standard(dev, List.of()).directories().stream().map(InputSources.DeviceDirectory::dir).toList());
    }

    @Test
    void onlyIsExactlyTheGivenPaths() {
        InputSources s = InputSources.only(List.of(Path.of("/dev/pts/3"), Path.of("/dev/pts/3"), Path.of("/x")));
        assertEquals(List.of(Path.of("/dev/pts/3"), Path.of("/x")), s.devices());
        assertTrue(s.directories().isEmpty());
    }

    @Test
    void newestAccessTimeIsTheLatestReadOfAnyDeviceAndEmptyWhenNoneExists() throws IOException {
        Path a = touch("tty1");
        Path b = touch("tty2");
        setAccessTime(a, 1_000_000L);
        setAccessTime(b, 5_000_000L);
        assertEquals(5_000_000L, InputSources.only(List.of(a, b, dev.resolve("gone"))).newestAccessMillis().getAsLong());
        assertTrue(InputSources.only(List.of(dev.resolve("gone"))).newestAccessMillis().isEmpty());
    }

    private static void setAccessTime(Path p, long millis) throws IOException {
        Files.getFileAttributeView(p, BasicFileAttributeView.class).setTimes(null, FileTime.fromMillis(millis), null);
    }
}
