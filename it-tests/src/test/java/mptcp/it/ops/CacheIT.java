package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The class cache (cache=on, engine.TransformCache) and the kept jffi stub (mptcp.sys.StubFile): a second start takes
 * the rewritten JDK classes from the private directory and never runs the class rewriter (the JVM's own class-load log
 * shows whether mptcp.agent.engine.CallSites was loaded), and maps the stub kept there (the process's /proc maps);
 * damaged files, a directory others can reach, a cache on a noexec mount and cache=off all still give MPTCP sockets,
 * read from the kernel, with the rewriter run again or the stub written elsewhere for the one load.
 */
class CacheIT {
    private static final String REWRITER = " mptcp.agent.engine.CallSites ";

    @TempDir
    Path dir;

    /** The path of jffi's stub mapped by the last run's JVM. */
    private String stub;

    /** Runs SocketApp's Socket/ServerSocket pair; returns whether the class rewriter ran. Both ends must be MPTCP. */
    private boolean run(Jdk jdk, Path cacheHome, Path tmp, String options) throws Exception {
        Path classLog = Files.createTempFile(dir, "classes", ".log");
        List<String> args = new ArrayList<>(List.of("-Xlog:class+load=info:file=" + classLog, "-Djava.io.tmpdir=" + tmp,
                ChildJvm.loopbackAgentArg(options)));
        try (ChildJvm app = ChildJvm.java(jdk, args, Map.of("XDG_CACHE_HOME", cacheHome.toString()),
                "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK socket"), app.output());
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            assertEquals(2, Ss.count(s, "mptcp", "ESTAB"), s.toString());
            assertEquals(0, Ss.count(s, "tcp", "ESTAB"), s.toString());
            assertFalse(app.output().contains("ERROR"), app.output());
            // the stub's executable mapping (a copy loaded once is deleted right after: "(deleted)")
            stub = Files.readAllLines(Path.of("/proc/" + app.pid() + "/maps")).stream()
                    .filter(l -> l.contains(" r-xp ") && l.contains("/libjffi-1.2.so"))
                    .map(l -> l.substring(l.indexOf('/')).replace(" (deleted)", "")).findFirst().orElse(null);
        }
        return Files.readString(classLog).contains(REWRITER);
    }

    private static List<Path> files(Path d) throws IOException {
        try (Stream<Path> s = Files.walk(d)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void secondStartSkipsTheRewriterAndDamageOrLooseModesAreNotTrusted(Jdk jdk) throws Exception {
        Path home = Files.createDirectory(dir.resolve("cache-home"));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        assertTrue(run(jdk, home, tmp, ""), "first start: the rewriter runs");
        Path root = home.resolve("mptcp-agent");
        assertEquals("rwx------", mode(root));
        List<Path> cached = files(root);
        assertTrue(cached.stream().anyMatch(p -> p.getFileName().toString().startsWith("sun.nio.ch.Net-")), cached.toString());
        assertTrue(cached.stream().anyMatch(p -> p.getFileName().toString().startsWith("sun.nio.ch.MptcpAgentHook-")), cached.toString());
        for (Path p : cached) {
            assertEquals("rwx------", mode(p.getParent()), p.toString());
        }

        Path kept = cached.stream().filter(p -> p.getFileName().toString().equals("libjffi-1.2.so")).findFirst()
                .orElseThrow(() -> new AssertionError("no stub kept: " + cached));
        assertTrue(Files.exists(kept.resolveSibling("libjffi-1.2.so.crc32")), cached.toString());
        assertEquals(kept.toString(), stub, "the first start loaded the stub it kept");

        assertFalse(run(jdk, home, tmp, ""), "second start: everything from the cache, the rewriter never loaded");
        assertEquals(cached, files(root), "nothing new written");
        assertEquals(kept.toString(), stub, "the kept stub is the one loaded");

        for (Path p : cached) { // flip the last byte of every file: each fails its checksum
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.seek(f.length() - 1);
                int b = f.read();
                f.seek(f.length() - 1);
                f.write(b ^ 0xFF);
            }
        }
        assertTrue(run(jdk, home, tmp, ""), "damaged files: not used, the rewriter runs");
        assertFalse(run(jdk, home, tmp, ""), "and they were written again");
        assertEquals(kept.toString(), stub, "the stub too");

        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertTrue(run(jdk, home, tmp, ""), "a directory others can read is not used");
        Path fallback = tmp.resolve("mptcp-agent-" + Files.getAttribute(tmp, "unix:uid"));
        assertTrue(Files.isDirectory(fallback), "the private directory under java.io.tmpdir is used instead");
        assertEquals("rwx------", mode(fallback));

        Path noexec = Files.createDirectory(dir.resolve("noexec"));
        Proc.check(List.of("mount", "-t", "tmpfs", "-o", "noexec,mode=0700", "tmpfs", noexec.toString()));
        try {
            Path noexecTmp = Files.createDirectory(dir.resolve("noexec-tmp"));
            assertTrue(run(jdk, noexec, noexecTmp, ""), "a cache on a noexec mount: classes cached there");
            assertTrue(stub != null && stub.startsWith(noexecTmp + "/mptcp-agent-jffi-"),
                    "the stub could not be loaded from there: a copy written for the one load, got " + stub);
            assertEquals(List.of(), files(noexecTmp), "and deleted once loaded");
        } finally {
            Proc.check(List.of("umount", noexec.toString()));
        }

        Path off = Files.createDirectory(dir.resolve("off-home"));
        Path offTmp = Files.createDirectory(dir.resolve("off-tmp"));
        assertTrue(run(jdk, off, offTmp, "cache=off"), "cache=off: the rewriter runs");
        assertEquals(List.of(), files(off), "cache=off writes nothing");
        assertEquals(List.of(), files(offTmp), "cache=off writes nothing");
    }
}
