package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What README and docs/observability.md claim and no other test provokes: the option counters, a refusal other than
 * ENOPROTOOPT (EPERM from a seccomp policy), the jffi stub on a noexec temp directory, log=off|error, and the rate
 * limit of the INFO lines. Every protocol is read from the kernel (ss).
 */
class ReadmeClaimsIT {

    /** option_conversions / option_deviations count what compat did, per kind, and agree with the kernel. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void optionCounters(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("log=info")), "mptcp.it.apps.SocketApp", "options")) {
            String[] ports = app.expect("OPTIONS ").split(" ");
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK options"), app.output());
            StatusIT.Status s = StatusIT.status(jdk, app.pid());
            assertEquals(1, s.counter("option_conversions"), s.cli.toString());
            assertEquals(1, s.counter("option_conversions_SO_OOBINLINE_tcp"), s.cli.toString());
            assertEquals(1, s.counter("option_deviations"), s.cli.toString());
            assertEquals(1, s.counter("option_deviations_SO_OOBINLINE_emulated"), s.cli.toString());
            // the kernel: the converted client is plain TCP, the other one MPTCP
            List<Ss.Entry> k = Ss.sockets(app.pid());
            assertTrue(k.stream().anyMatch(e -> e.protocol.equals("tcp") && e.state.equals("ESTAB") && e.localPort() == Integer.parseInt(ports[1])), k.toString());
            assertTrue(k.stream().anyMatch(e -> e.protocol.equals("mptcp") && e.state.equals("ESTAB") && e.localPort() == Integer.parseInt(ports[2])), k.toString());
            app.finish();
            assertEquals(1, app.agentLines().stream().filter(l -> l.startsWith("mptcp-agent: INFO: SO_OOBINLINE: the socket became plain TCP")).count(), app.output());
        }
    }

    /**
     * docs/options.md's deviation "SO_OOBINLINE on an established connection that fell back to TCP": SocketException
     * under the agent (counted), set without it; the fallback itself read from the kernel (ss -M: "fallback").
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void oobInlineAfterFallback(Jdk jdk) throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) { // no agent here: TCP
            for (boolean agent : new boolean[] {false, true}) {
                try (ChildJvm app = ChildJvm.java(jdk, agent ? List.of(ChildJvm.loopbackAgentArg("log=info")) : List.of(), "mptcp.it.apps.PeerApp")) {
                    app.expect("STARTED");
                    app.send("connect 127.0.0.1 " + plain.getLocalPort());
                    String local = "127.0.0.1:" + app.expect("CONNECTED ").split(" ")[1];
                    try (java.net.Socket accepted = plain.accept()) {
                        app.send("oob");
                        String oob = app.expect("OOB ");
                        if (!agent) {
                            assertEquals("OOB ok true", oob, app.output());
                            continue;
                        }
                        assertTrue(oob.startsWith("OOB EXCEPTION java.net.SocketException"), oob);
                        String kernel = StatusIT.ss("-M", local, "127.0.0.1:" + plain.getLocalPort());
                        assertTrue(kernel != null && kernel.contains("fallback"), "an MPTCP socket that fell back: " + kernel);
                        StatusIT.Status s = StatusIT.status(jdk, app.pid());
                        assertEquals(1, s.counter("option_deviations_SO_OOBINLINE_error"), s.cli.toString());
                    }
                }
            }
        }
    }

    /**
     * README: the agent classifies and counts every connection after connect and accept, also on JDK 17's legacy
     * PlainSocketImpl (its socketConnect and socketAccept are in the JDK module's table).
     */
    @Test
    void legacyPlainSocketImplConnectionsAreCounted() throws Exception {
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of("-Djdk.net.usePlainSocketImpl=true", ChildJvm.loopbackAgentArg("")),
                "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            app.assertLegacySocketImpl();
            assertEquals(2, Ss.count(Ss.sockets(app.pid()), "mptcp", "ESTAB"));
            StatusIT.Status s = StatusIT.status(Jdk.JDK17, app.pid());
            assertEquals(2, s.counter("connections_mptcp"), s.cli.toString());
            assertEquals(1, s.counter("connections_mptcp_accepted"), s.cli.toString());
        }
    }

    /** A security policy refusing MPTCP sockets (EPERM): the app works on TCP, one WARN names EPERM, status counts it. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void refusedWithEperm(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.SocketApp", "--deny-mptcp", "socket", "channel")) {
            app.expect("SECCOMP ");
            app.expect("READY");
            assertTrue(app.stdoutLines().containsAll(List.of("OK socket", "OK channel")), app.output());
            List<Ss.Entry> k = Ss.sockets(app.pid());
            assertEquals(0, k.stream().filter(e -> e.protocol.equals("mptcp")).count(), k.toString());
            assertEquals(2, Ss.count(k, "tcp", "LISTEN"), k.toString());
            StatusIT.Status s = StatusIT.status(jdk, app.pid());
            assertEquals(4, s.counter("sockets_tcp_fallback_EPERM"), s.cli.toString()); // 2 listeners, 2 clients
            assertEquals(0, s.counter("sockets_mptcp"), s.cli.toString());
            assertTrue(s.items.get("mptcp_available").startsWith("no (EPERM"), s.cli.toString());
            app.finish();
            List<String> agent = app.agentLines();
            assertEquals(1, agent.size(), app.output());
            assertTrue(agent.get(0).startsWith("mptcp-agent: WARN: ") && agent.get(0).contains("EPERM"), agent.get(0));
        }
    }

    /**
     * java.io.tmpdir and the agent's cache directory (where its stub is kept) on a noexec file system: jffi's stub
     * cannot load; one WARN says what to do, sockets stay TCP. (A noexec cache alone: CacheIT, MPTCP.)
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void jffiStubOnNoexecTmpdir(Jdk jdk) throws Exception {
        Prerequisites.require("noexec tmpdir test", Prerequisites.missing(List.of("unshare", "mount")));
        Path dir = Files.createTempDirectory("mptcp-it-noexec");
        try {
            // a private mount namespace: the noexec tmpfs exists for this JVM only and vanishes with it
            List<String> wrapper = List.of("env", "XDG_CACHE_HOME=" + dir, "unshare", "-m", "--propagation", "private", "sh", "-c",
                    "mount -t tmpfs -o noexec,mode=1777 mptcp-it-noexec \"$0\" && exec \"$@\"", dir.toString());
            try (ChildJvm app = ChildJvm.javaUnder(wrapper, jdk, List.of("-Djava.io.tmpdir=" + dir, ChildJvm.loopbackAgentArg("")),
                    "mptcp.it.apps.SocketApp", "socket")) {
                app.expect("READY");
                assertTrue(app.stdoutLines().contains("OK socket"), app.output());
                List<Ss.Entry> k = Ss.sockets(app.pid());
                assertEquals(0, k.stream().filter(e -> e.protocol.equals("mptcp")).count(), k.toString());
                assertEquals(1, Ss.count(k, "tcp", "LISTEN"), k.toString());
                app.finish();
                List<String> agent = app.agentLines();
                assertEquals(1, agent.size(), app.output());
                assertTrue(agent.get(0).startsWith("mptcp-agent: WARN: native binding failed"), agent.get(0));
                // (on JDK 17 the cause's message may contain line breaks, so the hint can be on a later line)
                assertTrue(String.join("\n", app.stderrLines()).contains("start the JVM with -Djffi.extract.dir="), app.output());
            }
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    /** log=off and log=error silence the WARN a refused MPTCP socket gives at the default level (FallbackIT). */
    @Test
    void logOffAndErrorSilenceWarnings() throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            for (String level : new String[] {"off", "error", "warn"}) {
                try (ChildJvm app = ChildJvm.javaIn(ns, Jdk.JDK17, List.of(ChildJvm.loopbackAgentArg("log=" + level)),
                        "mptcp.it.apps.SocketApp", "socket")) {
                    app.expect("READY");
                    assertTrue(app.stdoutLines().contains("OK socket"), app.output());
                    assertEquals(1, Ss.count(Ss.sockets(app.pid(), ns.name), "tcp", "LISTEN"));
                    app.finish();
                    assertEquals(level.equals("warn") ? 1 : 0, app.agentLines().size(), "log=" + level + ": " + app.output());
                }
            }
        }
    }

    /** At log=info each destination without MPTCP is named once, at most 20 lines a minute. */
    @Test
    void infoLinesAreRateLimited() throws Exception {
        int destinations = 45; // > 2 x 20: even if the connections straddle a minute boundary, some lines are dropped
        List<ServerSocket> plain = new ArrayList<>(); // this JVM runs without the agent: plain TCP servers
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of(ChildJvm.loopbackAgentArg("log=info")), "mptcp.it.apps.PeerApp")) {
            for (int i = 0; i < destinations; i++) {
                plain.add(new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1")));
            }
            app.expect("STARTED");
            for (ServerSocket s : plain) {
                app.send("connect 127.0.0.1 " + s.getLocalPort());
                app.expect("CONNECTED ");
            }
            StatusIT.Status s = StatusIT.status(Jdk.JDK17, app.pid());
            assertEquals(destinations, s.counter("connections_tcp"), s.cli.toString());
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            List<String> named = app.agentLines().stream().filter(l -> l.contains(" answers without MPTCP: "))
                    .collect(Collectors.toList());
            assertTrue(named.size() >= 20 && named.size() <= 40, named.size() + " lines:\n" + String.join("\n", named));
            assertEquals(named.size(), named.stream().distinct().count(), "a destination named twice: " + named);
        } finally {
            for (ServerSocket s : plain) {
                s.close();
            }
        }
    }
}
