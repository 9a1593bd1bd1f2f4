package dev.ferry.lhcache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every program manager of one cluster shares: it signs multicast datagrams and
 * authenticates PM-to-PM gRPC calls.
 *
 * <p>A MAC covers a sequence of parts, each preceded by its length (4 bytes, big-endian), so that
 * ("ab", "c") and ("a", "bc") never sign alike. {@link javax.crypto.Mac} is not thread-safe, so
 * each thread keeps its own initialised instance.
 */
public final class ClusterKey {
    /** HMAC-SHA256 keys shorter than the hash give less than its strength. */
    static final int MIN_FILE_KEY_BYTES = 32;
    private static final String ALGORITHM = "HmacSHA256";
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final SecretKeySpec secret;
    private final ThreadLocal<Mac> macs;

    private ClusterKey(byte[] key) {
        this.secret = new SecretKeySpec(key, ALGORITHM);
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    /**
     * Loads the key file. Refuses a file that group or others may read or write (a readable key
     * lets any local user forge datagrams) and one shorter than 32 bytes; the whole file is the key.
     */
    public static ClusterKey load(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
        loose.addAll(perms);
        loose.retainAll(GROUP_OR_OTHERS);
        if (!loose.isEmpty()) {
            throw new IOException(String.format(
                    "cluster key %s has mode %s: group and others must have no access (chmod 600 %s)",
                    file, PosixFilePermissions.toString(perms), file));
        }
        byte[] key = Files.readAllBytes(file);
        if (key.length < MIN_FILE_KEY_BYTES) {
            throw new IOException(String.format("cluster key %s has %d bytes, at least %d are required",
                    file, key.length, MIN_FILE_KEY_BYTES));
        }
        return new ClusterKey(key);
    }

    /**
     * Writes 32 fresh random bytes to a new file created with mode 0600 and returns the key.
     * Never replaces an existing file (a silently changed key would split the cluster).
     */
    public static ClusterKey generate(Path file) throws IOException {
        byte[] key = new byte[MIN_FILE_KEY_BYTES];
        new SecureRandom().nextBytes(key);
        try {
            // The mode is given at creation, so the key is never readable by others, not even briefly.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(
                    EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(file.toString(), null, "refusing to overwrite a cluster key");
        }
        Files.write(file, key, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        return new ClusterKey(key);
    }

    /** A key from raw bytes (tests, or keys kept elsewhere); the array is copied. */
    public static ClusterKey ofBytes(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length == 0) {
            throw new IllegalArgumentException("cluster key must not be empty");
        }
        return new ClusterKey(key.clone());
    }

    /** HMAC-SHA256 over the length-prefixed concatenation of {@code parts}. */
    public byte[] mac(byte[]... parts) {
        Mac mac = macs.get();
        ByteBuffer length = ByteBuffer.allocate(Integer.BYTES);
        for (byte[] part : parts) {
            length.clear();
            mac.update(length.putInt(part.length).array());
            mac.update(part);
        }
        return mac.doFinal();
    }

    /** Whether {@code mac} signs {@code parts}; the comparison takes the same time wherever they differ. */
    public boolean verify(byte[] mac, byte[]... parts) {
        return mac != null && MessageDigest.isEqual(mac(parts), mac);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(secret);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform provides " + ALGORITHM, e);
        }
    }

    @Override
    public String toString() {
        // Never the key itself: a short fingerprint is enough to compare hosts' keys in logs.
        byte[] fingerprint = Arrays.copyOf(mac("ferry-key-fingerprint".getBytes(StandardCharsets.UTF_8)), 4);
        return "ClusterKey[fingerprint=" + HexFormat.of().formatHex(fingerprint) + "]";
    }
}
