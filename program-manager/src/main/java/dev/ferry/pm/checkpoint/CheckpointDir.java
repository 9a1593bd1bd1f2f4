package dev.ferry.pm.checkpoint;

import dev.ferry.pm.FerryException;
import dev.ferry.proto.v1.Caller;
import dev.ferry.proto.v1.CheckpointMeta;
import dev.ferry.proto.v1.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * A checkpoint image directory as the program manager sees it: the kernel agent's process
 * image plus {@code lh.meta} (who owns the LH and how it was started), and {@code restarted}
 * once the image has been brought back as the same LH.
 *
 * <p>The manager runs as root but acts for a user, so it writes only where that user could:
 * into a directory the user owns (created for them, mode 0700, if it does not exist, in a
 * parent they own or a sticky world-writable one such as /tmp), and it reads back only images
 * whose metadata the user owns. Files it writes are handed to the user.
 */
public final class CheckpointDir {
    static final String META = "lh.meta";
    static final String RESTARTED = "restarted";
    public static final int META_VERSION = 1;
    /** Files a checkpoint writes: the kernel agent's (lh.img, pages.idx, pages.bin, pages.N.bin), then lh.meta. */
    private static final java.util.regex.Pattern IMAGE_FILE =
            java.util.regex.Pattern.compile("lh\\.img|lh\\.meta|pages\\.idx|pages(\\.[0-9]+)?\\.bin");
    private static final java.util.regex.Pattern PAGE_FILE = java.util.regex.Pattern.compile("pages(\\.[0-9]+)?\\.bin");

    private final Path dir;
    private final boolean createdHere;

    private CheckpointDir(Path dir, boolean createdHere) {
        this.dir = dir;
        this.createdHere = createdHere;
    }

    public Path path() {
        return dir;
    }

    /** A directory the caller may write a new image into (created when missing). */
    public static CheckpointDir forWriting(String dirName, Caller caller) throws FerryException {
        Path dir = absolute(dirName);
        try {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "%s exists and is not a directory", dir);
                }
                requireOwner(dir, caller);
                if (Files.exists(dir.resolve(META)) || Files.exists(dir.resolve("lh.img"))) {
                    throw FerryException.of(ErrorCode.FAILED_PRECONDITION,
                            "%s already holds a checkpoint image; choose another directory or remove it", dir);
                }
                return new CheckpointDir(dir, false);
            }
            Path parent = dir.getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw FerryException.of(ErrorCode.NOT_FOUND, "cannot create %s: %s is not a directory", dir, parent);
            }
            if (caller.getUid() != 0 && uid(parent) != caller.getUid() && !stickyWorldWritable(parent)) {
                throw FerryException.of(ErrorCode.PERMISSION_DENIED, "%s may not create %s (the parent is not theirs)",
                        caller.getUser(), dir);
            }
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            giveTo(dir, caller);
            return new CheckpointDir(dir, true);
        } catch (IOException e) {
            throw new FerryException(ErrorCode.INVALID_ARGUMENT, "cannot use " + dir + ": " + e.getMessage(), e);
        }
    }

    /** An existing image the caller may restart. */
    public static CheckpointDir forReading(String dirName, Caller caller) throws FerryException {
        Path dir = absolute(dirName);
        Path meta = dir.resolve(META);
        if (!Files.isRegularFile(meta, LinkOption.NOFOLLOW_LINKS)) {
            throw FerryException.of(ErrorCode.NOT_FOUND, "%s holds no Ferry checkpoint image (no %s)", dir, META);
        }
        requireOwner(meta, caller);
        return new CheckpointDir(dir, false);
    }

    private static Path absolute(String dirName) throws FerryException {
        if (dirName.isEmpty() || !dirName.startsWith("/")) {
            throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "checkpoint directory must be an absolute path, got '%s'", dirName);
        }
        return Path.of(dirName).normalize();
    }

    private static void requireOwner(Path p, Caller caller) throws FerryException {
        try {
            if (caller.getUid() != 0 && uid(p) != caller.getUid()) {
                throw FerryException.of(ErrorCode.PERMISSION_DENIED, "%s does not belong to %s", p, caller.getUser());
            }
        } catch (IOException e) {
            throw new FerryException(ErrorCode.INVALID_ARGUMENT, "cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private static int uid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static boolean stickyWorldWritable(Path p) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode");
        return (mode & 01002) == 01002;
    }

    private static void giveTo(Path p, Caller caller) throws IOException {
        Files.setAttribute(p, "unix:uid", caller.getUid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", caller.getGid(), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * After a refused or failed checkpoint: removes what was written, and the directory itself
     * if this checkpoint created it, so a failed attempt leaves nothing that looks like an image.
     */
    public void discard() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (IMAGE_FILE.matcher(f.getFileName().toString()).matches()) {
                    Files.deleteIfExists(f);
                }
            }
            if (createdHere) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // best effort: what is left has no lh.meta, so it is never taken for an image
        }
    }

    /** Hands every file of the image to its user (the manager wrote them as root). */
    public void giveAllTo(Caller caller) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                giveTo(f, caller);
            }
        }
    }

    /** Bytes of page data in the image (all its page files). */
    public long pageBytes() throws IOException {
        long total = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (PAGE_FILE.matcher(f.getFileName().toString()).matches()) {
                    total += Files.size(f);
                }
            }
        }
        return total;
    }

    public void writeMeta(CheckpointMeta meta) throws IOException {
        try (OutputStream out = Files.newOutputStream(dir.resolve(META), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            meta.writeTo(out);
        }
    }

    public CheckpointMeta readMeta() throws FerryException {
        try (InputStream in = Files.newInputStream(dir.resolve(META))) {
            CheckpointMeta meta = CheckpointMeta.parseFrom(in);
            if (meta.getFormatVersion() != META_VERSION || meta.getLhId().isEmpty()) {
                throw FerryException.of(ErrorCode.INVALID_ARGUMENT, "%s/%s is not a Ferry image of a version this manager reads (version %d)",
                        dir, META, meta.getFormatVersion());
            }
            return meta;
        } catch (IOException e) {
            throw new FerryException(ErrorCode.INVALID_ARGUMENT, "cannot read " + dir.resolve(META) + ": " + e.getMessage(), e);
        }
    }

    /**
     * True the first time an image of an ended LH is restarted: that restart continues the same
     * LH (same id). Every later restart, and every restart of a left-running image, is a fork.
     */
    public boolean claimFirstRestart() {
        try {
            Files.createFile(dir.resolve(RESTARTED));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            return false; // read-only image: never reuse the id, a fork is always safe
        }
    }
}
