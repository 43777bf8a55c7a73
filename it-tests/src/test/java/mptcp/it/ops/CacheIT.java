package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The class cache (cache=on, engine.TransformCache) and the kept jffi stub (mptcp.sys.StubFile): a second start takes
 * the rewritten JDK classes from the private directory and never runs the class rewriter (the JVM's own class-load log
 * shows whether mptcp.agent.engine.CallSites was loaded), and maps the stub kept there (the process's /proc maps);
 * damaged files, a directory others can reach, a cache on a noexec mount and cache=off all still give MPTCP sockets,
 * read from the kernel, with the rewriter run again or the stub written elsewhere for the one load. Entries with a
 * good checksum and the wrong content (another class, garbage, a newer class-file version; issue 21 item 5) and a
 * symlinked entry are not used: rewritten, still MPTCP. A new agent build removes the other builds' directories of
 * this uid (item 9) without harming a JVM of that other build still running.
 * (Other users' attacks on the cache: CacheAttackIT.)
 */
class CacheIT {
    private static final String REWRITER = " mptcp.agent.engine.CallSites ";

    @TempDir
    Path dir;

    /** The path of jffi's stub mapped by the last run's JVM. */
    private String stub;
    /** The last run's output. */
    private String lastOutput;

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
            assertFalse(app.output().contains("ERROR") || app.output().contains("Exception"), app.output());
            lastOutput = app.output();
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

    private static byte[] newer(byte[] cls) {
        byte[] b = cls.clone();
        b[6] = 0;
        b[7] = 99; // a class-file version no JDK here defines
        return b;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void entriesWithAGoodChecksumButTheWrongContentAreRewrittenAndTheSocketsStayMptcp(Jdk jdk) throws Exception {
        Path home = Files.createDirectory(dir.resolve("cache-home"));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        assertTrue(run(jdk, home, tmp, ""), "first start: the rewriter runs");
        Path build = CacheFiles.buildDir(home.resolve("mptcp-agent"));
        Path hook = CacheFiles.entry(build, "sun.nio.ch.MptcpAgentHook-");
        Path dispatch = CacheFiles.entry(build, "mptcp.agent.jdk.MptcpAgentDispatch-");
        Path net = CacheFiles.entry(build, "sun.nio.ch.Net-");
        Path nio = CacheFiles.entry(build, "sun.nio.ch.NioSocketImpl-");
        Map<Path, byte[]> genuine = new java.util.HashMap<>();
        for (Path p : List.of(hook, dispatch, net, nio)) {
            genuine.put(p, CacheFiles.classOf(p));
        }
        byte[] garbage = new byte[3000];
        new java.util.Random(21).nextBytes(garbage);
        // each of the three entries gets each kind of wrong content once: another class, garbage, a newer version
        List<Map<Path, byte[]>> rounds = List.of(
                Map.of(hook, genuine.get(dispatch), dispatch, garbage, net, newer(genuine.get(net))),
                Map.of(hook, garbage, dispatch, newer(genuine.get(dispatch)), net, genuine.get(nio)),
                Map.of(hook, newer(genuine.get(hook)), dispatch, genuine.get(hook), net, garbage));
        for (Map<Path, byte[]> round : rounds) {
            for (Map.Entry<Path, byte[]> e : round.entrySet()) {
                CacheFiles.writeEntry(e.getKey(), e.getValue());
            }
            assertTrue(run(jdk, home, tmp, ""), "wrong entries are not used: the rewriter runs");
            for (Path p : round.keySet()) {
                assertArrayEquals(genuine.get(p), CacheFiles.classOf(p), p + " written again as rewritten here");
            }
        }
        assertFalse(run(jdk, home, tmp, ""), "and used again at the next start");

        // a link in place of an entry, to a file of this same uid holding the class with a marker: not read
        Path elsewhere = dir.resolve("elsewhere.class");
        CacheFiles.writeEntry(elsewhere, CacheFiles.withMarker(genuine.get(net), "MPTCP-IT-LINKED-ENTRY-RAN"));
        Files.delete(net);
        Files.createSymbolicLink(net, elsewhere);
        assertTrue(run(jdk, home, tmp, ""), "the linked entry is not used: the rewriter runs");
        assertFalse(lastOutput.contains("MPTCP-IT-LINKED-ENTRY-RAN"), lastOutput);
        assertFalse(Files.isSymbolicLink(net), "written again over the link");
        assertArrayEquals(genuine.get(net), CacheFiles.classOf(net));
    }

    /** A copy of the agent jar that calls itself build {@code build} (its cache directory's name). */
    private Path jarOfBuild(String build) throws IOException {
        Path jar = Files.copy(ChildJvm.AGENT, dir.resolve("mptcp-agent-" + build + ".jar"));
        try (java.nio.file.FileSystem zip = java.nio.file.FileSystems.newFileSystem(jar)) {
            Files.writeString(zip.getPath("inst/mptcp-agent.properties"), "version=0.0.1\nbuild=" + build + "\n");
        }
        return jar;
    }

    @Test
    void aNewBuildRemovesTheOtherBuildsDirectoriesWithoutHarmingAJvmOfThatBuild() throws Exception {
        Path home = Files.createDirectory(dir.resolve("cache-home"));
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        Path base = home.resolve("mptcp-agent");
        Path outside = Files.writeString(dir.resolve("outside"), "kept");
        // a JVM of another build (JDK 25) with its cache in the same directory, before its first socket
        try (ChildJvm other = ChildJvm.java(Jdk.JDK25, List.of("-Djava.io.tmpdir=" + tmp,
                "-javaagent:" + jarOfBuild("other") + "=" + ChildJvm.LOOPBACK_MPTCP), Map.of("XDG_CACHE_HOME", home.toString()),
                "mptcp.it.apps.CacheVictim", "wait")) {
            other.expect("STARTED");
            assertTrue(Files.isDirectory(base.resolve("0.0.1-other")), CacheFiles.files(home).toString());
            Path old = Files.createDirectories(base.resolve("0.0.0-old"));
            Files.writeString(old.resolve("sun.nio.ch.Net-1.class"), "x");
            Files.createSymbolicLink(old.resolve("link"), outside);
            Path theirs = Files.createDirectories(base.resolve("0.0.0-theirs"));
            Files.writeString(theirs.resolve("f"), "x");
            Proc.check(List.of("chown", "-R", "40001:40001", theirs.toString()));

            assertTrue(run(Jdk.JDK17, home, tmp, ""), "this build's first start");
            try (Stream<Path> s = Files.list(base)) {
                List<String> left = s.map(p -> p.getFileName().toString()).sorted().toList();
                assertEquals(2, left.size(), "this build's directory and another user's: " + left);
                assertTrue(left.contains("0.0.0-theirs"), left.toString());
            }
            assertEquals("kept", Files.readString(outside), "a link inside was removed, not followed");

            other.send(""); // the other build's JVM goes on without its directory: rewrites, MPTCP
            CacheFiles.assertVictimMptcp(other);
        }
    }

    /**
     * A process short of file descriptors (ulimit -n): wherever the application runs with an agent that does nothing
     * (which already holds its jar open), it runs with this one too, exit 0 and no exception. The agent must not be
     * the first to initialise a JDK class whose initialiser takes descriptors (JDK 17's FileDispatcherImpl, IOUtil)
     * while it holds some of its own: a failed initialiser leaves the class unusable and the application's sockets
     * with it. Near the limit it leaves the descriptors to the application (one WARN, sockets TCP).
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void aProcessShortOfFileDescriptorsIsNeverBrokenByTheAgent(Jdk jdk) throws Exception {
        Path emptyAgent = dir.resolve("empty-agent.jar");
        java.util.jar.Manifest m = new java.util.jar.Manifest();
        m.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", "mptcp.it.apps.CacheVictim");
        try (java.util.jar.JarOutputStream jar = new java.util.jar.JarOutputStream(Files.newOutputStream(emptyAgent), m)) {
            jar.putNextEntry(new java.util.jar.JarEntry("mptcp/it/apps/CacheVictim.class"));
            jar.write(Files.readAllBytes(Path.of(mptcp.it.apps.CacheVictim.class.getProtectionDomain().getCodeSource()
                    .getLocation().toURI()).resolve("mptcp/it/apps/CacheVictim.class")));
        }
        Path home = Files.createDirectory(dir.resolve("cache-home"));
        int floorRan = 0;
        for (int limit = 12; limit <= 17; limit++) {
            Proc floor = ulimited(jdk, limit, "-javaagent:" + emptyAgent, home);
            Proc agent = ulimited(jdk, limit, ChildJvm.loopbackAgentArg(""), home);
            if (floor.exit == 0 && floor.output.contains("READY")) {
                floorRan++;
                assertEquals(0, agent.exit, "ulimit -n " + limit + ": runs with an empty agent, not with this one:\n"
                        + agent.output);
                assertTrue(agent.output.contains("READY") && !agent.output.contains("Exception"), agent.output);
            }
        }
        assertTrue(floorRan >= 2, "the application ran with the empty agent at some of these limits");
    }

    private static Proc ulimited(Jdk jdk, int limit, String agentArg, Path cacheHome) throws Exception {
        // the test classes alone (the full test class path would have the JVM open more jars)
        String classes = Path.of(mptcp.it.apps.CacheVictim.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        return Proc.run(List.of("sh", "-c", "ulimit -n " + limit + " && exec \"$@\"", "sh", jdk.java(), agentArg, "-cp",
                classes, "mptcp.it.apps.Launch", "mptcp.it.apps.CacheVictim"), Map.of("XDG_CACHE_HOME", cacheHome.toString()), 60);
    }
}
