package mptcp.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The private directory's checks, on real directories: which ancestors are trusted (OpenSSH's StrictModes rule),
 * which entries are read, the removal of other builds' directories, the one-use directory. The tests that need
 * another owner than this process run as root (chown); CI runs as root, elsewhere they are skipped.
 */
class PrivateDirTest {
    /** A uid no file of this machine belongs to: the attacker. */
    private static final int OTHER = 40001;
    private static final String BUILD = "0.1.0-test";

    @TempDir
    Path top;
    /** A directory every test builds below, trusted like /tmp's own subdirectories (owned by this uid, 0755). */
    private Path dir;
    private long uid;

    @BeforeEach
    void trustedTop() throws Exception {
        uid = PrivateDir.effectiveUid();
        // JUnit's temporary directory is 0700 and so are its parents' defaults: make the chain look like a home
        dir = Files.createDirectory(top.resolve("t"));
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void root() {
        boolean ci = "true".equals(System.getenv("CI"));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (ci && !root) {
            throw new AssertionError("CI=true: this test needs root (chown)");
        }
        Assumptions.assumeTrue(root, "needs root (chown)");
    }

    private static void mode(Path p, String mode) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    private static void sticky(Path p, String mode) throws Exception {
        Process chmod = new ProcessBuilder("chmod", mode, p.toString()).inheritIO().start();
        assertTrue(chmod.waitFor(10, TimeUnit.SECONDS) && chmod.exitValue() == 0);
    }

    private static void chown(Path p, int uid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    private PrivateDir create(Path cacheHome, Path tmp) throws IOException {
        return PrivateDir.create(cacheHome, tmp, BUILD, uid);
    }

    @Test
    void makesAndReopensTheBuildDirectoryWithMode0700() throws Exception {
        Path home = dir.resolve("home/.cache"); // missing: made
        try (PrivateDir d = create(home, dir.resolve("tmp"))) {
            assertEquals(home.resolve("mptcp-agent").resolve(BUILD).toRealPath(), d.path);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path.getParent())));
            assertTrue(d.write("a", new byte[] {1, 2}, new byte[] {3}));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path.resolve("a"))));
            assertArrayEquals(new byte[] {1, 2, 3}, d.read("a", 10));
            assertNull(d.read("missing", 10));
            try (Stream<Path> s = Files.list(d.path)) {
                assertEquals(List.of(d.path.resolve("a")), s.toList(), "no temporary file left");
            }
        }
        try (PrivateDir again = create(home, dir.resolve("tmp"))) {
            assertArrayEquals(new byte[] {1, 2, 3}, again.read("a", 10), "kept for the next open");
        }
    }

    @Test
    void aSymlinkedHomeIsFollowedOnceAndItsRealPathChecked() throws Exception {
        Path real = Files.createDirectories(dir.resolve("data/cache"));
        Path link = Files.createSymbolicLink(dir.resolve("cache-link"), real);
        try (PrivateDir d = create(link, dir.resolve("tmp"))) {
            assertEquals(real.toRealPath().resolve("mptcp-agent").resolve(BUILD), d.path);
        }
    }

    @Test
    void aWorldWritableAncestorWithoutTheStickyBitIsRefused() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        mode(shared, "rwxrwxrwx"); // mkdir -m 0777: anyone can rename what is inside
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        try (PrivateDir d = create(shared.resolve("xdg"), tmp)) {
            assertTrue(d.path.startsWith(tmp.toRealPath()), "fell back to java.io.tmpdir: " + d.path);
        }
        assertFalse(Files.exists(shared.resolve("xdg/mptcp-agent")), "nothing made below the unsafe directory");
        IOException e = assertThrows(IOException.class, () -> PrivateDir.create(null, shared, BUILD, uid));
        assertTrue(e.getMessage().contains(shared + " is writable by others without the sticky bit"), e.getMessage());
        mode(shared, "rwxrwx---");
        e = assertThrows(IOException.class, () -> PrivateDir.create(null, shared, BUILD, uid));
        assertTrue(e.getMessage().contains("writable by its group"), e.getMessage());
    }

    @Test
    void aRootOwnedStickyDirectoryLikeTmpIsTrusted() throws Exception {
        root();
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        sticky(tmp, "1777");
        try (PrivateDir d = PrivateDir.create(null, tmp, BUILD, uid)) {
            assertEquals(tmp.toRealPath().resolve("mptcp-agent-" + uid).resolve(BUILD), d.path);
        }
    }

    @Test
    void anAncestorOwnedByAnotherUserIsRefusedEvenWithTheStickyBit() throws Exception {
        root();
        Path theirs = Files.createDirectory(dir.resolve("theirs"));
        sticky(theirs, "1777");
        chown(theirs, OTHER); // its owner may rename anything inside, sticky or not
        IOException e = assertThrows(IOException.class, () -> PrivateDir.create(null, theirs, BUILD, uid));
        assertTrue(e.getMessage().contains(theirs + " belongs to uid " + OTHER), e.getMessage());
        mode(theirs, "rwxr-xr-x");
        chown(dir, OTHER); // further up the chain
        assertThrows(IOException.class, () -> PrivateDir.create(null, theirs, BUILD, uid));
    }

    @Test
    void aPrivateLevelThatIsALinkOrHasLooseModesIsNotUsed() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home"));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        mode(elsewhere, "rwx------");
        Path link = Files.createSymbolicLink(home.resolve("mptcp-agent"), elsewhere); // even to a directory of this uid
        try (PrivateDir d = create(home, tmp)) {
            assertTrue(d.path.startsWith(tmp.toRealPath()), "the link is not followed: " + d.path);
        }
        Files.delete(link);
        Path base = Files.createDirectory(home.resolve("mptcp-agent"));
        mode(base, "rwxr-x---");
        try (PrivateDir d = create(home, tmp)) {
            assertTrue(d.path.startsWith(tmp.toRealPath()), "a base others can read is not used: " + d.path);
        }
        mode(base, "rwx------");
        try (PrivateDir d = create(home, tmp)) {
            assertTrue(d.path.startsWith(base.toRealPath()), d.path.toString());
        }
        mode(base.resolve(BUILD), "rwx--x--x");
        try (PrivateDir d = create(home, tmp)) {
            assertTrue(d.path.startsWith(tmp.toRealPath()), "a build directory others can enter is not used: " + d.path);
        }
        IOException notDir = assertThrows(IOException.class,
                () -> PrivateDir.create(null, Files.createFile(dir.resolve("file")), BUILD, uid));
        assertTrue(notDir.getMessage().contains("not a directory"), notDir.getMessage());
    }

    @Test
    void aBuildDirectoryOfAnotherUserIsRefused() throws Exception {
        root();
        Path home = Files.createDirectory(dir.resolve("home"));
        try (PrivateDir d = PrivateDir.create(home, dir.resolve("x"), BUILD, uid)) {
            chown(d.path, OTHER);
        }
        IOException e = assertThrows(IOException.class,
                () -> PrivateDir.create(home, Files.createFile(dir.resolve("file")), BUILD, uid));
        assertTrue(e.getMessage().contains(home + " not used: ") && e.getMessage().contains("is not a directory of uid "
                + uid + " with mode 0700 (uid " + OTHER), e.getMessage());
    }

    @Test
    @Timeout(20)
    void onlyRegularFilesOfThisUidThatNobodyElseCanWriteAreRead() throws Exception {
        Path outside = Files.write(dir.resolve("outside.class"), new byte[] {42});
        try (PrivateDir d = create(dir.resolve("home"), dir.resolve("tmp"))) {
            Files.createSymbolicLink(d.path.resolve("link"), outside); // a link, even to a file of this uid
            IOException e = assertThrows(IOException.class, () -> d.read("link", 10));
            assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
            Files.createDirectory(d.path.resolve("sub"));
            assertThrows(IOException.class, () -> d.read("sub", 10));
            Process fifo = new ProcessBuilder("mkfifo", d.path.resolve("fifo").toString()).start();
            assertTrue(fifo.waitFor(10, TimeUnit.SECONDS) && fifo.exitValue() == 0);
            assertThrows(IOException.class, () -> d.read("fifo", 10), "a FIFO is refused, not opened (no hang)");
            assertTrue(d.write("loose", new byte[] {1}));
            mode(d.path.resolve("loose"), "rw-rw-r--");
            assertThrows(IOException.class, () -> d.read("loose", 10));
            byte[] big = new byte[100_000]; // several of the chunks it is read and written in
            new java.util.Random(7).nextBytes(big);
            assertTrue(d.write("big", big, new byte[] {1, 2}));
            assertThrows(IOException.class, () -> d.read("big", 100_001));
            byte[] back = d.read("big", 100_002);
            assertArrayEquals(big, java.util.Arrays.copyOf(back, big.length));
            assertEquals(100_002, back.length);
            assertEquals(100_002, Files.size(d.path.resolve("big")));
            assertTrue(d.write("link", new byte[] {7}), "written over the link: the link is replaced, not followed");
            assertArrayEquals(new byte[] {42}, Files.readAllBytes(outside));
            assertArrayEquals(new byte[] {7}, d.read("link", 10));
            d.delete("link");
            assertNull(d.read("link", 10));
        }
    }

    @Test
    void aFileOfAnotherUserIsNotRead() throws Exception {
        root();
        try (PrivateDir d = create(dir.resolve("home"), dir.resolve("tmp"))) {
            assertTrue(d.write("theirs", new byte[] {1}));
            chown(d.path.resolve("theirs"), OTHER);
            IOException e = assertThrows(IOException.class, () -> d.read("theirs", 10));
            assertTrue(e.getMessage().contains("belongs to uid " + OTHER), e.getMessage());
        }
    }

    @Test
    void aNewBuildDirectoryRemovesTheOtherBuildsOfThisUidOnly() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home"));
        Path target = Files.write(dir.resolve("target"), new byte[] {1});
        try (PrivateDir old = PrivateDir.create(home, dir.resolve("tmp"), "0.0.9-old", uid)) {
            assertTrue(old.write("sun.nio.ch.Net-1.class", new byte[] {1}));
            Files.createSymbolicLink(old.path.resolve("link"), target);
        }
        Path base = home.resolve("mptcp-agent").toRealPath();
        Path keptFile = Files.write(base.resolve("a-file"), new byte[] {1});
        Path keptLink = Files.createSymbolicLink(base.resolve("a-link"), Files.createDirectory(dir.resolve("linked")));
        try (PrivateDir d = PrivateDir.create(home, dir.resolve("tmp"), BUILD, uid)) {
            assertTrue(d.write("x", new byte[] {1}));
        }
        assertFalse(Files.exists(base.resolve("0.0.9-old"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "old build removed");
        assertArrayEquals(new byte[] {1}, Files.readAllBytes(target), "a link inside was removed, its target kept");
        assertTrue(Files.exists(keptFile) && Files.isSymbolicLink(keptLink) && Files.isDirectory(dir.resolve("linked")),
                "what is not a build directory is left alone");

        try (PrivateDir again = PrivateDir.create(home, dir.resolve("tmp"), "0.0.9-old", uid)) {
            assertTrue(again.write("y", new byte[] {1}));
        }
        assertFalse(Files.exists(base.resolve(BUILD)), "and the other way round");
        try (PrivateDir d = PrivateDir.create(home, dir.resolve("tmp"), "0.0.9-old", uid)) {
            assertArrayEquals(new byte[] {1}, d.read("y", 10), "an existing build directory removes nothing");
        }
    }

    @Test
    void anotherUsersBuildDirectoryIsNotRemoved() throws Exception {
        root();
        Path home = Files.createDirectory(dir.resolve("home"));
        try (PrivateDir old = PrivateDir.create(home, dir.resolve("tmp"), "0.0.9-old", uid)) {
            assertTrue(old.write("f", new byte[] {1}));
            chown(old.path.resolve("f"), OTHER);
            chown(old.path, OTHER);
        }
        try (PrivateDir d = PrivateDir.create(home, dir.resolve("tmp"), BUILD, uid)) {
            assertTrue(Files.exists(d.path.resolveSibling("0.0.9-old").resolve("f")));
        }
    }

    @Test
    void aDirectoryForOneUseIsNewPrivateAndRemovedWithItsFiles() throws Exception {
        Path parent = Files.createDirectory(dir.resolve("tmp"));
        PrivateDir once = PrivateDir.fresh(parent, "mptcp-agent-jffi-", uid);
        PrivateDir other = PrivateDir.fresh(parent, "mptcp-agent-jffi-", uid);
        assertNotEquals(once.path, other.path);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(once.path)));
        assertTrue(once.write("libjffi-1.2.so", new byte[] {1}));
        assertEquals(Files.readAttributes(once.path.resolve("libjffi-1.2.so"), "unix:ino").get("ino"),
                once.inode("libjffi-1.2.so"));
        once.remove();
        other.remove();
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(), s.toList());
        }
        Path shared = Files.createDirectory(dir.resolve("shared"));
        mode(shared, "rwxrwxrwx");
        assertThrows(IOException.class, () -> PrivateDir.fresh(shared, "mptcp-agent-jffi-", uid),
                "not in a directory where another user could swap it");
    }
}
