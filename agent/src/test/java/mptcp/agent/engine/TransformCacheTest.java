package mptcp.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

class TransformCacheTest {
    private static final String HOOK = "t/Hook";

    @TempDir
    Path top;
    private Path home;
    private Path tmp;

    @BeforeEach
    void dirs() throws Exception {
        // a chain of directories only this uid can change, as a home is (JUnit's own are 0700)
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwxr-xr-x"));
        home = Files.createDirectory(top.resolve("home"));
        tmp = Files.createDirectory(top.resolve("tmp"));
    }

    private TransformCache open() throws Exception {
        return TransformCache.open(home, tmp, "0.1.0-test", mptcp.sys.PrivateDir.effectiveUid());
    }

    /** A class file {@code name} of version {@code version} that calls {@code target}'s static run() (the "rewrite"). */
    static byte[] clazz(String name, int version, String target) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(version, Opcodes.ACC_PUBLIC, name, null, "java/lang/Object", null);
        MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "go", "()V", null, null);
        m.visitCode();
        m.visitMethodInsn(Opcodes.INVOKESTATIC, target, "run", "()V", false);
        m.visitInsn(Opcodes.RETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static byte[] get(TransformCache c, String name, long key) {
        return c.get(name, key, Opcodes.V17, HOOK);
    }

    private static List<Path> files(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    @Test
    void storesAndReturnsClassesInAPrivateDirectory() throws Exception {
        TransformCache cache = open();
        assertTrue(cache.enabled());
        assertEquals(home.resolve("mptcp-agent/0.1.0-test").toRealPath(), cache.directory());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("mptcp-agent"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache.directory())));
        byte[] original = {1, 2, 3, 4};
        long key = TransformCache.key(original);
        byte[] net = clazz("sun/nio/ch/Net", Opcodes.V17, HOOK);
        assertNull(get(cache, "sun/nio/ch/Net", key));
        cache.put("sun/nio/ch/Net", key, net);
        cache.release();
        assertArrayEquals(net, get(cache, "sun/nio/ch/Net", key), "read again after the release: opened for the read");
        assertArrayEquals(net, get(open(), "sun/nio/ch/Net", key), "a later run reads it");
        assertNull(get(cache, "sun/nio/ch/Net", key + 1), "another original, another key");
        assertNull(get(cache, "sun/nio/ch/Other", key));
        assertEquals(1, files(cache.directory()).size(), "no temporary file left: " + files(cache.directory()));
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
        byte[] y = clazz("x/Y", Opcodes.V17, HOOK);
        cache.put("x/Y", 7, y);
        Path f = files(cache.directory()).get(0);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(raf.length() - 1);
            raf.write(99);
        }
        assertNull(get(cache, "x/Y", 7), "content does not match its checksum");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(5);
        }
        assertNull(get(cache, "x/Y", 7), "truncated");
        cache.put("x/Y", 7, y);
        assertArrayEquals(y, get(cache, "x/Y", 7), "written again");
    }

    /** Stores {@code content} under {@code name}'s entry with a valid header and checksum, as a confused writer would. */
    private static void plant(TransformCache cache, String name, long key, byte[] content) throws Exception {
        CRC32 crc = new CRC32();
        crc.update(content);
        byte[] file = new byte[16 + content.length];
        System.arraycopy("MPTCPAC1".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, file, 0, 8);
        for (int i = 0; i < 8; i++) {
            file[8 + i] = (byte) (crc.getValue() >>> (56 - 8 * i));
        }
        System.arraycopy(content, 0, file, 16, content.length);
        Files.write(cache.directory().resolve(name.replace('/', '.') + "-" + Long.toHexString(key) + ".class"), file);
    }

    @Test
    void anEntryWithAGoodChecksumButTheWrongContentIsNotReturned() throws Exception {
        TransformCache cache = open();
        byte[] garbage = new byte[300];
        new java.util.Random(1).nextBytes(garbage);
        byte[] newer = clazz("x/Y", Opcodes.V17, HOOK);
        newer[7] = 99; // a class-file version this JVM cannot define
        byte[] truncated = java.util.Arrays.copyOf(clazz("x/Y", Opcodes.V17, HOOK), 100);
        byte[] trailing = java.util.Arrays.copyOf(clazz("x/Y", Opcodes.V17, HOOK), clazz("x/Y", Opcodes.V17, HOOK).length + 3);
        List<byte[]> wrong = List.of(clazz("x/Other", Opcodes.V17, HOOK), garbage, newer, truncated, trailing,
                clazz("x/Y", Opcodes.V11, HOOK), clazz("x/Y", Opcodes.V17, "t/NotTheHook"), new byte[0]);
        for (byte[] w : wrong) {
            plant(cache, "x/Y", 7, w);
            assertNull(get(cache, "x/Y", 7), "planted: " + w.length + " bytes");
        }
        plant(cache, "x/Y", 7, clazz("x/Y", Opcodes.V17, HOOK));
        assertArrayEquals(clazz("x/Y", Opcodes.V17, HOOK), get(cache, "x/Y", 7), "the right class, planted the same way");
        assertArrayEquals(clazz("x/Y", Opcodes.V17, HOOK), cache.get("x/Y", 7, Opcodes.V17, null), "no reference asked");
    }

    @Test
    void aSymlinkedEntryIsNotReadEvenToAFileOfThisUid() throws Exception {
        TransformCache cache = open();
        byte[] y = clazz("x/Y", Opcodes.V17, HOOK);
        cache.put("x/Y", 7, y);
        Path entry = files(cache.directory()).get(0);
        Path moved = Files.move(entry, top.resolve("elsewhere.class"));
        Files.createSymbolicLink(entry, moved);
        assertNull(get(cache, "x/Y", 7));
        cache.put("x/Y", 7, y);
        assertFalse(Files.isSymbolicLink(entry), "written over: the link replaced, not followed");
        assertArrayEquals(y, get(cache, "x/Y", 7));
    }

    @Test
    void aDirectoryOthersCanReachIsNotUsed() throws Exception {
        Path dir = home.resolve("mptcp-agent");
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        TransformCache cache = open();
        assertEquals(tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid() + "/0.1.0-test").toRealPath(),
                cache.directory(), "falls back to the private directory under tmp");
        Path t = tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid());
        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxrwx---"));
        assertThrowsIo(this::open, "neither is private: no cache");
        assertFalse(TransformCache.NONE.enabled());
        assertNull(TransformCache.NONE.get("x/Y", 1, Opcodes.V17, HOOK));
        TransformCache.NONE.put("x/Y", 1, new byte[] {1}); // nothing, and no failure
        TransformCache.NONE.release();
    }

    @Test
    void anUnusableCacheHomeFallsBackToTmp() throws Exception {
        Path file = Files.writeString(home.resolve("not-a-directory"), "x");
        TransformCache cache = TransformCache.open(file, tmp, "0.1.0-test", mptcp.sys.PrivateDir.effectiveUid());
        assertEquals(tmp.resolve("mptcp-agent-" + mptcp.sys.PrivateDir.effectiveUid() + "/0.1.0-test").toRealPath(),
                cache.directory());
    }

    private interface Opening {
        TransformCache open() throws Exception;
    }

    private static void assertThrowsIo(Opening o, String message) {
        try {
            o.open();
        } catch (Exception e) {
            assertTrue(e instanceof java.io.IOException, e.toString());
            return;
        }
        throw new AssertionError(message);
    }
}
