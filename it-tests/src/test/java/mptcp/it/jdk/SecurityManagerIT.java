package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21, item 3: a JDK 17 application under a security manager whose policy (it replaces the JDK's default policy:
 * {@code -Djava.security.policy==FILE}) grants the application's code nothing but sockets. JDK 24+ cannot enable a
 * security manager at all, so this is JDK 17 only.
 * <ul>
 *   <li>The agent's jar granted AllPermission: the agent works as without a security manager (its work on the
 *       application's threads runs privileged): MPTCP sockets read from the kernel, with an empty class cache (the
 *       rewrite written) and then a filled one (read), not one ERROR line.</li>
 *   <li>Not granted: one WARN line, the application runs unchanged (TCP) and exits 0. Before the fix the JVM aborted
 *       ({@code *** java.lang.instrument ASSERTION FAILED ***}, exit 134) or, granted, logged three ERROR lines and
 *       stayed TCP.</li>
 * </ul>
 */
class SecurityManagerIT {
    @TempDir
    Path dir;

    private ChildJvm app(boolean grantAgent, String agentOptions) throws Exception {
        Path policy = dir.resolve(grantAgent ? "granted.policy" : "not-granted.policy");
        String text = "grant { permission java.net.SocketPermission \"*\", \"listen,accept,connect,resolve\"; };\n";
        if (grantAgent) {
            text += "grant codeBase \"file:" + ChildJvm.AGENT + "\" { permission java.security.AllPermission; };\n";
        }
        Files.writeString(policy, text);
        Path cache = dir.resolve("cache");
        Files.createDirectories(cache);
        return ChildJvm.command(List.of(Jdk.JDK17.java(), "-Djava.security.manager", "-Djava.security.policy==" + policy,
                ChildJvm.agentArg(agentOptions), "-cp", ChildJvm.CLASSPATH, "mptcp.it.apps.Launch", "mptcp.it.apps.BaseApp"),
                Map.of("XDG_CACHE_HOME", cache.toString()));
    }

    /** Opens the app's sockets (Socket and channel pairs on loopback) and returns what the kernel says of them. */
    private static List<Ss.Entry> sockets(ChildJvm app) throws Exception {
        assertTrue(app.expect("JVM ").startsWith("JVM 17 "), app.output());
        app.expect("STARTED");
        app.send("socket");
        assertTrue(app.expect("PAIR ").matches("PAIR \\d+"), app.output());
        app.send("channel");
        assertTrue(app.expect("PAIR ").matches("PAIR \\d+"), app.output());
        return Ss.sockets(app.pid());
    }

    private static List<String> agentLines(ChildJvm app) {
        List<String> out = new ArrayList<>();
        for (String l : app.stderrLines()) {
            if (!l.startsWith("WARNING: ")) { // the JDK's own two lines about the deprecated security manager
                out.add(l);
            }
        }
        return out;
    }

    @Test
    void agentGrantedAllPermissionWorksOnTheApplicationsThreads() throws Exception {
        for (String cache : new String[] {"empty", "filled"}) {
            try (ChildJvm app = app(true, ChildJvm.LOOPBACK_MPTCP + ",log=info")) {
                List<Ss.Entry> s = sockets(app);
                assertEquals(2, Ss.count(s, "mptcp", "LISTEN"), cache + " cache: " + s + app);
                assertEquals(4, Ss.count(s, "mptcp", "ESTAB"), cache + " cache: " + s + app);
                AgentCli status = AgentCli.run(Jdk.JDK17, "status", String.valueOf(app.pid()));
                assertEquals(0, status.exit, status.toString());
                assertTrue(status.output.contains("\nconnections_mptcp: 4\n"), status.toString());
                app.send("exit");
                assertEquals(0, app.waitFor(), app.output());
                List<String> lines = agentLines(app);
                assertEquals(1, lines.size(), cache + " cache: " + app.output());
                assertTrue(lines.get(0).startsWith("mptcp-agent: INFO: active (premain)"), app.output());
            }
        }
        try (java.util.stream.Stream<Path> kept = Files.walk(dir.resolve("cache"))) {
            assertTrue(kept.anyMatch(p -> p.getFileName().toString().startsWith("sun.nio.ch.Net-")),
                    "the rewrite was kept in the cache, then read from it");
        }
    }

    @Test
    void agentNotGrantedOneWarningAndTheApplicationRunsUnchanged() throws Exception {
        try (ChildJvm app = app(false, ChildJvm.LOOPBACK_MPTCP)) {
            List<Ss.Entry> s = sockets(app);
            assertEquals(2, Ss.count(s, "tcp", "LISTEN"), s + app.output());
            assertEquals(4, Ss.count(s, "tcp", "ESTAB"), s + app.output());
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            assertEquals(List.of("mptcp-agent: WARN: a security manager is installed and its policy does not grant"
                    + " mptcp-agent.jar AllPermission; the agent is not installed, the application runs unchanged (to use"
                    + " the agent, grant it: grant codeBase \"file:/path/to/mptcp-agent.jar\" { permission"
                    + " java.security.AllPermission; };)"), agentLines(app), app.output());
        }
    }
}
