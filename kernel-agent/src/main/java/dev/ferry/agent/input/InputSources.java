package dev.ferry.agent.input;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a workstation's owner types: the device nodes whose reads are input, and the
 * directories where new ones appear (a new terminal is a new {@code /dev/pts/N}).
 *
 * @param devices device nodes (or any files) watched for reads
 * @param directories directories watched for new devices whose names match
 */
public record InputSources(List<Path> devices, List<DeviceDirectory> directories) {
    private static final Pattern PTS = Pattern.compile("[0-9]+");
    private static final Pattern EVENT = Pattern.compile("event[0-9]+");
    private static final Pattern TTY = Pattern.compile("tty.*");

    /** A directory whose new entries named {@code names} become watched devices. */
    public record DeviceDirectory(Path dir, Pattern names) {
        boolean wants(String name) {
            return names.matcher(name).matches();
        }
    }

    public InputSources {
        devices = List.copyOf(devices);
        directories = List.copyOf(directories);
    }

    /**
     * A workstation's usual input: terminals ({@code DEV/tty*}, {@code DEV/pts/N}), input event
     * devices ({@code DEV/input/eventN}) when present, and {@code extra} paths; terminals and
     * event devices created later are picked up as they appear.
     */
    public static InputSources standard(Path dev, List<Path> extra) throws IOException {
        Set<Path> devices = new LinkedHashSet<>(list(dev, TTY));
        List<DeviceDirectory> dirs = new ArrayList<>();
        for (DeviceDirectory d : List.of(new DeviceDirectory(dev.resolve("pts"), PTS),
                new DeviceDirectory(dev.resolve("input"), EVENT))) {
            if (Files.isDirectory(d.dir())) {
                devices.addAll(list(d.dir(), d.names()));
                dirs.add(d);
            }
        }
        devices.addAll(extra);
        return new InputSources(List.copyOf(devices), dirs);
    }

    /** Exactly these paths, nothing found by itself (a test host watching its own terminal). */
    public static InputSources only(List<Path> paths) {
        return new InputSources(List.copyOf(new LinkedHashSet<>(paths)), List.of());
    }

    /**
     * When the devices were last read, in epoch milliseconds: the newest access time among
     * them, for the idle time at start (a tty's access time moves in 8-second steps, so it is
     * only a starting point). Empty when none could be read.
     */
    public OptionalLong newestAccessMillis() {
        OptionalLong newest = OptionalLong.empty();
        for (Path p : devices) {
            try {
                long atime = Files.readAttributes(p, BasicFileAttributes.class).lastAccessTime().toMillis();
                if (newest.isEmpty() || atime > newest.getAsLong()) {
                    newest = OptionalLong.of(atime);
                }
            } catch (IOException e) {
                // gone since it was listed (a closed terminal): it tells nothing
            }
        }
        return newest;
    }

    private static List<Path> list(Path dir, Pattern names) throws IOException {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (names.matcher(p.getFileName().toString()).matches() && !Files.isDirectory(p)) {
                    found.add(p);
                }
            }
        }
        found.sort(null);
        return found;
    }
}
