package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code log_output=slf4j}: the agent's lines go through the application's own slf4j + logback once the application
 * has initialised it, and never initialise it first (logback's pattern uses a property main sets before its first
 * slf4j call: every line shows it); earlier lines go to stderr. Without the key, nothing goes through slf4j.
 */
class LogOutputIT {
    private static final String CONFIG = "-Dlogback.configurationFile="
            + Paths.get("src/test/resources/logback-marker.xml").toAbsolutePath();

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void agentLinesGoThroughTheApplicationsLogback(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(CONFIG, ChildJvm.loopbackAgentArg("log=debug,log_output=slf4j")),
                "mptcp.it.servers.Slf4jApp")) {
            app.expect("READY");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            app.finish();
            List<String> out = app.stdoutLines();
            assertTrue(out.contains("STATE_AT_MAIN 0"), "the agent initialised slf4j before main:\n" + app.output());
            assertTrue(out.contains("MARKED set-in-main INFO mptcp.it.servers.Slf4jApp app started"), app.output());
            List<String> agent = out.stream().filter(l -> l.contains(" mptcp.agent ")).collect(Collectors.toList());
            assertTrue(agent.stream().allMatch(l -> l.startsWith("MARKED set-in-main ")), app.output());
            assertTrue(agent.stream().anyMatch(l -> l.matches("MARKED set-in-main DEBUG mptcp\\.agent fd \\d+: .* created as MPTCP")),
                    app.output());
            assertTrue(agent.stream().anyMatch(l -> l.matches("MARKED set-in-main DEBUG mptcp\\.agent fd \\d+: .*MPTCP negotiated")),
                    app.output());
            // before the application's first getLogger: stderr, as without the key
            List<String> err = app.agentLines();
            assertTrue(err.stream().anyMatch(l -> l.startsWith("mptcp-agent: INFO: active (premain)")), app.output());
            assertTrue(err.stream().noneMatch(l -> l.contains("created as MPTCP")), "socket lines after the app's"
                    + " logging started must not go to stderr:\n" + app.output());
        }
    }

    /**
     * An appender that opens a TCP connection on the logging thread: the agent's lines about those sockets come while
     * the application's logging runs; they go to stderr (logback's own re-entry guard would drop them silently), and
     * the application neither recurses nor blocks.
     */
    @Test
    void linesFromInsideTheApplicationsAppenderGoToStderr() throws Exception {
        try (java.net.ServerSocket collector = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            List<String> received = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            Thread t = new Thread(() -> {
                while (!collector.isClosed()) {
                    try (java.net.Socket s = collector.accept()) {
                        received.add(new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim());
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "collector");
            t.setDaemon(true);
            t.start();
            String config = "-Dlogback.configurationFile=" + Paths.get("src/test/resources/logback-connecting.xml").toAbsolutePath();
            try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of(config, "-Dcollector.port=" + collector.getLocalPort(),
                    ChildJvm.loopbackAgentArg("log=debug,log_output=slf4j")), "mptcp.it.servers.Slf4jApp")) {
                app.expect("READY");
                app.finish();
                assertTrue(app.stdoutLines().contains("MARKED set-in-main INFO mptcp.it.servers.Slf4jApp app started"), app.output());
                List<String> err = app.agentLines();
                assertTrue(err.stream().anyMatch(l -> l.matches("mptcp-agent: DEBUG: fd \\d+: .*socket created as MPTCP")),
                        "the agent's line about the appender's own socket goes to stderr:\n" + app.output());
                for (int i = 0; i < 100 && !(received.contains("mptcp.it.servers.Slf4jApp sockets open")); i++) {
                    Thread.sleep(100); // the collector reads the connections one after the other
                }
                assertTrue(received.contains("mptcp.it.servers.Slf4jApp app started"), received.toString());
                assertTrue(received.stream().anyMatch(r -> r.startsWith("mptcp.agent fd ")), "agent lines logged outside"
                        + " the appender still reach it: " + received);
            }
        }
    }

    @Test
    void defaultIsStderrAndAnAppThatNeverInitialisesSlf4jKeepsStderr() throws Exception {
        for (String options : new String[] {"log=debug", "log=debug,log_output=slf4j"}) {
            try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of(CONFIG, ChildJvm.loopbackAgentArg(options)), "mptcp.it.apps.PeerApp")) {
                app.expect("STARTED");
                app.send("listen");
                app.expect("LISTEN ");
                app.send("exit");
                assertEquals(0, app.waitFor(), app.output());
                assertTrue(app.stdoutLines().stream().noneMatch(l -> l.startsWith("MARKED")), options + "\n" + app.output());
                assertTrue(app.agentLines().stream().anyMatch(l -> l.startsWith("mptcp-agent: DEBUG: fd ")
                        && l.endsWith("created as MPTCP")), options + "\n" + app.output());
            }
        }
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of(CONFIG, ChildJvm.loopbackAgentArg("log=debug")), "mptcp.it.servers.Slf4jApp")) {
            app.expect("READY");
            app.finish();
            assertTrue(app.stdoutLines().stream().noneMatch(l -> l.contains(" mptcp.agent ")), "default is stderr:\n" + app.output());
            assertTrue(app.agentLines().stream().anyMatch(l -> l.endsWith("created as MPTCP")), app.output());
        }
    }
}
