package dev.ferry.lhcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClusterKeyTest {
    @TempDir
    Path dir;

    @Test
    void macVerifiesOnlyTheSamePartsUnderTheSameKey() {
        ClusterKey key = ClusterKey.ofBytes(GroupFixture.KEY_BYTES);
        byte[] mac = key.mac("hello".getBytes(), "world".getBytes());
        assertEquals(32, mac.length);
        assertTrue(key.verify(mac, "hello".getBytes(), "world".getBytes()));
        assertFalse(key.verify(mac, "hello".getBytes(), "world!".getBytes()));
        assertFalse(ClusterKey.ofBytes("another-key-another-key-another-key".getBytes())
                .verify(mac, "hello".getBytes(), "world".getBytes()));
        byte[] tampered = mac.clone();
        tampered[31] ^= 1;
        assertFalse(key.verify(tampered, "hello".getBytes(), "world".getBytes()));
        assertFalse(key.verify(null, "hello".getBytes()));
    }

    @Test
    void partsAreLengthPrefixedSoBoundariesMatter() {
        ClusterKey key = ClusterKey.ofBytes(GroupFixture.KEY_BYTES);
        assertFalse(key.verify(key.mac("ab".getBytes(), "c".getBytes()), "a".getBytes(), "bc".getBytes()));
        assertFalse(key.verify(key.mac("abc".getBytes()), "abc".getBytes(), new byte[0]));
    }

    @Test
    void generateWritesAPrivate32ByteKeyThatLoadsBack() throws IOException {
        Path file = dir.resolve("cluster.key");
        ClusterKey generated = ClusterKey.generate(file);
        assertEquals(32, Files.size(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        ClusterKey loaded = ClusterKey.load(file);
        assertArrayEquals(generated.mac("x".getBytes()), loaded.mac("x".getBytes()));
        assertThrows(FileAlreadyExistsException.class, () -> ClusterKey.generate(file));
        assertArrayEquals(generated.mac("x".getBytes()), ClusterKey.load(file).mac("x".getBytes()), "key kept");
    }

    @Test
    void twoGeneratedKeysDiffer() throws IOException {
        ClusterKey a = ClusterKey.generate(dir.resolve("a"));
        ClusterKey b = ClusterKey.generate(dir.resolve("b"));
        assertFalse(b.verify(a.mac("x".getBytes()), "x".getBytes()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw-r-----", "rw----r--", "r---w----", "rw-----w-", "rw------x"})
    void loadRefusesAKeyOthersCanReach(String mode) throws IOException {
        Path file = dir.resolve("k");
        Files.write(file, new byte[32]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        IOException e = assertThrows(IOException.class, () -> ClusterKey.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("chmod 600"), e.getMessage());
    }

    @Test
    void loadRefusesAShortKey() throws IOException {
        Path file = dir.resolve("short");
        Files.write(file, new byte[31]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        IOException e = assertThrows(IOException.class, () -> ClusterKey.load(file));
        assertTrue(e.getMessage().contains("31 bytes"), e.getMessage());
    }

    @Test
    void toStringNeverShowsTheKey() {
        ClusterKey key = ClusterKey.ofBytes(GroupFixture.KEY_BYTES);
        assertFalse(key.toString().contains(HexFormat.of().formatHex(GroupFixture.KEY_BYTES).substring(0, 8)));
        assertFalse(key.toString().contains(new String(GroupFixture.KEY_BYTES)));
    }

    @Test
    void ofBytesCopiesAndRefusesEmpty() {
        byte[] raw = GroupFixture.KEY_BYTES.clone();
        ClusterKey key = ClusterKey.ofBytes(raw);
        byte[] before = key.mac("x".getBytes());
        raw[0] ^= 1;
        assertArrayEquals(before, key.mac("x".getBytes()));
        assertThrows(IllegalArgumentException.class, () -> ClusterKey.ofBytes(new byte[0]));
    }
}
