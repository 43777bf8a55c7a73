package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What containers do to the agent, reproduced in a private mount namespace ({@code unshare -m}: the mounts vanish
 * with it): a {@code noexec} temp directory that also holds the agent's cache directory (XDG_CACHE_HOME; with an
 * exec-allowed cache the stub kept there loads, CacheIT) makes jffi's stub unloadable (one WARN naming
 * {@code jffi.extract.dir}, sockets stay TCP, the app runs); {@code -Djffi.extract.dir} on an exec-allowed volume
 * makes them MPTCP again, and the private stub directory is gone afterwards.
 */
class ContainersIT {
    @TempDir
    Path dir;

    private ChildJvm app(Jdk jdk, String extraJvmArg) throws Exception {
        Netns.requireRoot();
        Path noexec = Files.createDirectory(dir.resolve("noexec"));
        Path exec = Files.createDirectory(dir.resolve("exec"));
        String java = String.join(" ", jdk.java(), "-Djava.io.tmpdir=" + noexec, extraJvmArg,
                ChildJvm.agentArg("log=info,loopback=mptcp"), "-cp", ChildJvm.CLASSPATH, "mptcp.it.apps.PeerApp");
        String script = "mount -t tmpfs -o noexec,size=16m tmpfs " + noexec + " && mount -t tmpfs -o size=16m tmpfs " + exec
                + " && exec " + java;
        return ChildJvm.command(List.of("unshare", "-m", "--propagation", "private", "sh", "-c", script),
                Map.of("XDG_CACHE_HOME", noexec.toString()));
    }

    private static String listen(ChildJvm app) throws Exception {
        app.expect("STARTED");
        app.send("listen");
        return app.expect("LISTEN ").split(" ")[1];
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void noexecTempDirectoryKeepsTcpWithOneWarning(Jdk jdk) throws Exception {
        try (ChildJvm app = app(jdk, "")) {
            String port = listen(app);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, "tcp", "LISTEN"), s.toString());
            assertEquals(0, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            List<String> warn = app.agentLines().stream().filter(l -> l.startsWith("mptcp-agent: WARN: ")).collect(
                    java.util.stream.Collectors.toList());
            assertEquals(1, warn.size(), app.output());
            assertEquals(app.agentLines(), app.stderrLines(), "each message one line, nothing else on stderr");
            assertTrue(warn.get(0).contains("-Djffi.extract.dir="), app.output());
            assertTrue(port.matches("\\d+"), port);
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void jffiExtractDirOnAnExecVolumeMakesMptcp(Jdk jdk) throws Exception {
        try (ChildJvm app = app(jdk, "-Djffi.extract.dir=" + dir.resolve("exec"))) {
            listen(app);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            String mounts = Files.readString(Path.of("/proc", String.valueOf(app.pid()), "mountinfo"));
            assertTrue(mounts.contains(dir.resolve("noexec") + " ") && mounts.contains("noexec"), mounts);
            try (Stream<Path> left = Files.list(Path.of("/proc", String.valueOf(app.pid()), "root").resolve(
                    dir.resolve("exec").toString().substring(1)))) {
                assertEquals(0, left.count(), "the private stub directory is deleted once jffi loaded it");
            }
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            assertTrue(app.agentLines().stream().noneMatch(l -> l.startsWith("mptcp-agent: WARN")), app.output());
        }
    }
}
