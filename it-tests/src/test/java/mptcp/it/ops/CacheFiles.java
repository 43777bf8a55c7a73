package mptcp.it.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import mptcp.it.ChildJvm;
import mptcp.it.Proc;
import mptcp.it.Ss;

/**
 * The agent's cache files as a test (or an attacker) sees them: class entries ({@code MPTCPAC1}, the CRC-32 of the
 * class as 8 big-endian bytes, the class), jffi's stub and its {@code .crc32}; and what an attacker puts in their
 * place: the genuine class with a static initialiser that prints a marker, a stub whose constructor prints one.
 */
final class CacheFiles {
    static final String STUB = "libjffi-1.2.so";

    private CacheFiles() {
    }

    /**
     * apps.CacheVictim, at READY: its two listeners and two connected pairs are MPTCP (the kernel's view, ss); then it
     * exits 0 without an error or exception on its output.
     */
    static void assertVictimMptcp(ChildJvm app) throws Exception {
        app.expect("READY");
        List<Ss.Entry> s = Ss.sockets(app.pid());
        assertEquals(2, Ss.count(s, "mptcp", "LISTEN"), s + app.output());
        assertEquals(4, Ss.count(s, "mptcp", "ESTAB"), s + app.output());
        assertEquals(0, Ss.count(s, "tcp", "ESTAB"), s + app.output());
        app.send("");
        assertEquals(0, app.exit(30_000), app.output());
        String out = app.output();
        assertFalse(out.contains("ERROR") || out.contains("Error") || out.contains("Exception"), out);
    }

    /** The regular files of {@code d}, recursively, sorted. */
    static List<Path> files(Path d) throws IOException {
        try (Stream<Path> s = Files.walk(d)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** The one build directory under {@code base} (mptcp-agent or mptcp-agent-UID). */
    static Path buildDir(Path base) throws IOException {
        try (Stream<Path> s = Files.list(base)) {
            List<Path> dirs = s.filter(Files::isDirectory).toList();
            if (dirs.size() != 1) {
                throw new AssertionError("expected one build directory in " + base + ": " + dirs);
            }
            return dirs.get(0);
        }
    }

    /** The entry of class {@code prefix} (e.g. "sun.nio.ch.Net-") in build directory {@code build}. */
    static Path entry(Path build, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(build)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".class"))
                    .findFirst().orElseThrow(() -> new AssertionError("no " + prefix + "* in " + build));
        }
    }

    /** The class held by cache entry {@code entry}. */
    static byte[] classOf(Path entry) throws IOException {
        byte[] all = Files.readAllBytes(entry);
        return java.util.Arrays.copyOfRange(all, 16, all.length);
    }

    /** Writes {@code content} as cache entry {@code entry}, with a valid header and checksum. */
    static void writeEntry(Path entry, byte[] content) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(content);
        byte[] all = new byte[16 + content.length];
        System.arraycopy("MPTCPAC1".getBytes(StandardCharsets.US_ASCII), 0, all, 0, 8);
        for (int i = 0; i < 8; i++) {
            all[8 + i] = (byte) (crc.getValue() >>> (56 - 8 * i));
        }
        System.arraycopy(content, 0, all, 16, content.length);
        Files.write(entry, all);
    }

    /**
     * Class {@code cls} with {@code marker} printed on stderr first thing in its static initialiser (one added when
     * it has none): the attacker's version of a genuine class. ASM 9.4 reads class files up to Java 20 only, so the
     * version is lowered while it is read and restored in the result (no newer constant or attribute is touched).
     */
    static byte[] withMarker(byte[] cls, String marker) {
        byte[] in = cls.clone();
        int version = (in[6] & 0xFF) << 8 | in[7] & 0xFF;
        in[6] = 0;
        in[7] = (byte) Opcodes.V17;
        ClassReader reader = new ClassReader(in);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        boolean[] hasInit = new boolean[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
                if (!name.equals("<clinit>")) {
                    return mv;
                }
                hasInit[0] = true;
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        print(mv, marker);
                    }
                };
            }

            @Override
            public void visitEnd() {
                if (!hasInit[0]) {
                    MethodVisitor mv = super.visitMethod(Opcodes.ACC_STATIC, "<clinit>", "()V", null, null);
                    mv.visitCode();
                    print(mv, marker);
                    mv.visitInsn(Opcodes.RETURN);
                    mv.visitMaxs(0, 0);
                    mv.visitEnd();
                }
                super.visitEnd();
            }
        }, 0);
        byte[] out = writer.toByteArray();
        out[6] = (byte) (version >> 8);
        out[7] = (byte) version;
        return out;
    }

    private static void print(MethodVisitor mv, String marker) {
        mv.visitFieldInsn(Opcodes.GETSTATIC, "java/lang/System", "err", "Ljava/io/PrintStream;");
        mv.visitLdcInsn(marker);
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/io/PrintStream", "println", "(Ljava/lang/String;)V", false);
    }

    /**
     * Writes into {@code dir} a shared library named like jffi's stub whose constructor prints {@code marker} on
     * stderr (gcc), with its {@code .crc32} next to it, as the agent keeps them.
     */
    static void writeMarkerStub(Path dir, String marker) throws IOException, InterruptedException {
        Path c = Files.createTempFile("marker-stub", ".c");
        try {
            Files.writeString(c, "#include <stdio.h>\n__attribute__((constructor)) static void marker(void) {"
                    + " fputs(\"" + marker + "\\n\", stderr); }\n");
            Proc gcc = Proc.run(List.of("gcc", "-shared", "-fPIC", "-o", dir.resolve(STUB).toString(), c.toString()),
                    Map.of(), 60);
            if (gcc.exit != 0) {
                throw new IOException("gcc failed: " + gcc.output);
            }
        } finally {
            Files.delete(c);
        }
        CRC32 crc = new CRC32();
        crc.update(Files.readAllBytes(dir.resolve(STUB)));
        Files.writeString(dir.resolve(STUB + ".crc32"), String.format("%08x", crc.getValue()));
    }
}
