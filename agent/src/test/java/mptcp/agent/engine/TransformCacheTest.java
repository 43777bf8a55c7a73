package mptcp.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformCacheTest {
    @TempDir
    Path home;
    @TempDir
    Path tmp;

    private TransformCache open() throws Exception {
        return TransformCache.open(home.toFile(), tmp.toFile(), "0.1.0-test", mptcp.sys.PrivateDir.effectiveUid());
    }

    @Test
    void storesAndReturnsBytesInAPrivateDirectory() throws Exception {
        TransformCache cache = open();
        assertTrue(cache.enabled());
        assertEquals(home.resolve("mptcp-agent/0.1.0-test").toFile(), cache.directory());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("mptcp-agent"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache.directory().toPath())));
        byte[] original = {1, 2, 3, 4};
        long key = TransformCache.key(original);
        assertNull(cache.get("sun/nio/ch/Net", key));
        cache.put("sun/nio/ch/Net", key, new byte[] {9, 8, 7});
        assertArrayEquals(new byte[] {9, 8, 7}, open().get("sun/nio/ch/Net", key), "a later run reads it");
        assertNull(cache.get("sun/nio/ch/Net", key + 1), "another original, another key");
        assertNull(cache.get("sun/nio/ch/Other", key));
        assertEquals(1, cache.directory().list().length, "no temporary file left: " + String.join(",", cache.directory().list()));
    }

    @Test
    void keysDifferWithContentAndLength() {
        assertNotEquals(TransformCache.key(new byte[] {1, 2, 3}), TransformCache.key(new byte[] {1, 2, 4}));
        assertNotEquals(TransformCache.key(new byte[] {0}), TransformCache.key(new byte[] {0, 0}));
        assertEquals(TransformCache.key("a"), TransformCache.key("a"));
    }

    @Test
    void aDamagedFileIsIgnored() throws Exception {
        TransformCache cache = open();
        cache.put("x/Y", 7, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        File f = cache.directory().listFiles()[0];
        try (RandomAccessFile raf = new RandomAccessFile(f, "rw")) {
            raf.seek(raf.length() - 1);
            raf.write(99);
        }
        assertNull(cache.get("x/Y", 7), "content does not match its checksum");
        try (RandomAccessFile raf = new RandomAccessFile(f, "rw")) {
            raf.setLength(5);
        }
        assertNull(cache.get("x/Y", 7), "truncated");
        cache.put("x/Y", 7, new byte[] {1});
        assertArrayEquals(new byte[] {1}, cache.get("x/Y", 7), "written again");
    }

    @Test
    void aDirectoryOthersCanReachIsNotUsed() throws Exception {
        Path dir = home.resolve("mptcp-agent");
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        TransformCache cache = open();
        assertEquals(tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid() + "/0.1.0-test").toFile(), cache.directory(),
                "falls back to the private directory under tmp");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        Path t = tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid());
        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxrwx---"));
        assertSame(TransformCache.NONE, open(), "neither is private: no cache");
        assertFalse(TransformCache.NONE.enabled());
        assertNull(TransformCache.NONE.get("x/Y", 1));
        TransformCache.NONE.put("x/Y", 1, new byte[] {1}); // nothing, and no failure
    }

    @Test
    void anUnwritableCacheHomeFallsBackToTmp() throws Exception {
        Path file = Files.writeString(home.resolve("not-a-directory"), "x");
        TransformCache cache = TransformCache.open(file.toFile(), tmp.toFile(), "0.1.0-test", mptcp.sys.PrivateDir.effectiveUid());
        assertEquals(tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid() + "/0.1.0-test").toFile(), cache.directory());
    }

    @Test
    void aLinkOrAnotherOwnersDirectoryIsNotUsed() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(home.resolve("mptcp-agent"), elsewhere);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        Path t = Files.createDirectory(tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid()));
        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwx------"));
        assertEquals(t.resolve("0.1.0-test").toFile(), open().directory(), "the link is not followed");
        long other = mptcp.sys.PrivateDir.effectiveUid() + 1;
        assertSame(TransformCache.NONE, TransformCache.open(home.toFile(), tmp.toFile(), "0.1.0-test", other),
                "directories of another uid are not used");
    }
}
