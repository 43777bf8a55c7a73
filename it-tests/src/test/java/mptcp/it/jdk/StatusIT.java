package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code status <pid>}: counters and the per-connection table against real peers on loopback (an MPTCP peer, a plain
 * TCP server, a plain TCP client made by ncat), each row checked against the kernel's own view from {@code ss -M}
 * (MPTCP sockets, "fallback" flag, additional subflows) and {@code ss -t -i} (TCP subflows carry "tcp-ulp-mptcp").
 */
class StatusIT {

    /** Parsed text output of status: key: value lines and table rows (STATE LOCAL REMOTE PROTOCOL SUBFLOWS). */
    static final class Status {
        final Map<String, String> items = new LinkedHashMap<>();
        final List<String[]> rows = new ArrayList<>();
        final AgentCli cli;

        Status(AgentCli cli) {
            this.cli = cli;
            boolean table = false;
            for (String line : cli.output.split("\n")) {
                if (line.startsWith("STATE ")) {
                    table = true;
                } else if (table && !line.isBlank()) {
                    rows.add(line.trim().split("\\s+"));
                } else if (!table && line.contains(": ")) {
                    items.put(line.substring(0, line.indexOf(": ")), line.substring(line.indexOf(": ") + 2));
                }
            }
        }

        long counter(String key) {
            String v = items.get(key);
            assertNotNull(v, "no " + key + " in\n" + cli);
            return Long.parseLong(v);
        }

        String[] row(String local, String remote) {
            return rows.stream().filter(r -> r[1].equals(local) && r[2].equals(remote)).findFirst()
                    .orElseThrow(() -> new AssertionError("no row " + local + " " + remote + " in\n" + cli));
        }
    }

    static Status status(Jdk jdk, long pid) throws Exception {
        AgentCli cli = AgentCli.run(jdk, "status", String.valueOf(pid));
        assertEquals(0, cli.exit, cli.toString());
        return new Status(cli);
    }

    /** One socket as the kernel shows it: "ss -M -n -i" for MPTCP sockets, "ss -t -n -i" for TCP ones. */
    static String ss(String flag, String local, String remote) throws Exception {
        String out = Proc.check(List.of("ss", "-H", "-n", "-i", flag, "state", "all"));
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String[] f = lines[i].trim().split("\\s+");
            if (f.length >= 5 && plain(f[3]).equals(local) && plain(f[4]).equals(remote)) {
                return lines[i] + (i + 1 < lines.length ? " " + lines[i + 1].trim() : "");
            }
        }
        return null;
    }

    /** "[::ffff:127.0.0.1]:80" (how ss shows IPv4 on dual-stack sockets) → "127.0.0.1:80". */
    static String plain(String address) {
        return address.replaceFirst("^\\[::ffff:([0-9.]+)]", "$1");
    }

    /** Total subflows from an "ss -M -i" line: ss prints only the additional ones ("subflows:N", absent when 0). */
    static int ssSubflows(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\bsubflows:(\\d+)").matcher(line);
        return m.find() ? Integer.parseInt(m.group(1)) + 1 : 1;
    }

    /**
     * The {@code n}th "ACCEPTED" line of PeerApp (its acceptor thread may print before or after "CONNECTED", which
     * {@link ChildJvm#expect} would skip, so this reads all lines seen).
     */
    static String accepted(ChildJvm app, int n) throws InterruptedException {
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < end) {
            List<String> lines = app.stdoutLines().stream().filter(l -> l.startsWith("ACCEPTED ")).collect(
                    java.util.stream.Collectors.toList());
            if (lines.size() >= n) {
                return lines.get(n - 1);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no ACCEPTED line #" + n + "\n" + app.output());
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mptcpPeerPlainServerAndPlainClient(Jdk jdk) throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("log=info")), "mptcp.it.apps.PeerApp");
             ServerSocket plainServer = new ServerSocket(0, 50, lo)) { // this JVM runs without the agent: plain TCP
            app.expect("STARTED");
            Status before = status(jdk, app.pid());
            assertEquals("active", before.items.get("agent"), before.cli.toString());
            assertEquals("yes", before.items.get("mptcp_available"), before.cli.toString());
            assertEquals(0, before.counter("connections_mptcp"));
            assertEquals(0, before.counter("connections_tcp"));
            assertTrue(before.items.get("jmx").startsWith("waiting"), "the agent must not create the MBean server: " + before.cli);

            // 1. MPTCP peer: the app's own MPTCP listener
            app.send("listen");
            String port = app.expect("LISTEN ").split(" ")[1];
            app.send("connect 127.0.0.1 " + port);
            String mptcpLocal = "127.0.0.1:" + app.expect("CONNECTED ").split(" ")[1];
            accepted(app, 1);
            String listener = "127.0.0.1:" + port;

            // 2. plain TCP server (no MPTCP): the outgoing connection falls back
            app.send("connect 127.0.0.1 " + plainServer.getLocalPort());
            String fallbackLocal = "127.0.0.1:" + app.expect("CONNECTED ").split(" ")[1];
            String plainRemote = "127.0.0.1:" + plainServer.getLocalPort();
            Socket plainAccepted = plainServer.accept();

            // 3. plain TCP client (ncat without mptcpize) on the MPTCP listener
            try (ChildJvm ncat = ChildJvm.command(List.of("ncat", "127.0.0.1", port), Map.of());
                 Socket ignored = plainAccepted) {
                String ncatPort = accepted(app, 2).split(" ")[1];
                String ncatRemote = "127.0.0.1:" + ncatPort;

                Status s = status(jdk, app.pid());
                assertEquals(3, s.counter("sockets_mptcp"), s.cli.toString()); // listener + 2 outgoing sockets
                assertEquals(0, s.counter("sockets_tcp_fallback"), s.cli.toString());
                assertEquals(2, s.counter("connections_mptcp"), s.cli.toString());
                assertEquals(1, s.counter("connections_mptcp_accepted"), s.cli.toString());
                assertEquals(2, s.counter("connections_tcp"), s.cli.toString());
                assertEquals(1, s.counter("connections_tcp_accepted"), s.cli.toString());

                // the table, row by row, against the kernel
                String[] listen = s.row(listener, "*");
                assertEquals("LISTEN", listen[0]);
                assertEquals("mptcp", listen[3]);
                assertNotNull(ss("-M", listener, "*:*"), "ss -M lists the MPTCP listener");

                for (String[] pair : new String[][] {{mptcpLocal, listener}, {listener, mptcpLocal}}) {
                    String[] row = s.row(pair[0], pair[1]);
                    assertEquals("ESTAB", row[0], String.join(" ", row));
                    assertEquals("mptcp", row[3], String.join(" ", row));
                    String kernel = ss("-M", pair[0], pair[1]);
                    assertNotNull(kernel, "ss -M has no MPTCP socket " + pair[0] + " " + pair[1]);
                    assertFalse(kernel.contains("fallback"), kernel);
                    assertEquals(ssSubflows(kernel), Integer.parseInt(row[4]), "subflows vs " + kernel);
                    assertTrue(ss("-t", pair[0], pair[1]).contains("tcp-ulp-mptcp"), "its TCP subflow");
                }

                String[] out = s.row(fallbackLocal, plainRemote);
                assertEquals("mptcp→tcp", out[3], String.join(" ", out));
                assertEquals("1", out[4]);
                String kernelOut = ss("-M", fallbackLocal, plainRemote);
                assertNotNull(kernelOut, "ss -M lists the MPTCP socket that fell back");
                assertTrue(kernelOut.contains("fallback"), kernelOut);

                String[] in = s.row(listener, ncatRemote);
                assertEquals("mptcp→tcp", in[3], String.join(" ", in));
                assertEquals("1", in[4]);
                assertEquals(null, ss("-M", listener, ncatRemote), "no MPTCP socket for a plain client");
                String kernelIn = ss("-t", listener, ncatRemote);
                assertNotNull(kernelIn, "ss -t lists the accepted plain TCP socket");
                assertFalse(kernelIn.contains("tcp-ulp-mptcp"), kernelIn);

                // JSON for scripts
                AgentCli json = AgentCli.run(jdk, "status", String.valueOf(app.pid()), "--json");
                assertEquals(0, json.exit, json.toString());
                assertTrue(json.output.contains("\"agent\": \"active\""), json.toString());
                assertTrue(json.output.contains("\"connections_mptcp\": 2,"), json.toString());
                assertTrue(json.output.contains("\"connections_tcp\": 2,"), json.toString());
                assertTrue(json.output.contains("\"local\": \"" + fallbackLocal + "\", \"remote\": \"" + plainRemote
                        + "\", \"protocol\": \"mptcp→tcp\""), json.toString());
                // MPTCP_INFO fields of an MPTCP connection, the token checked against the kernel's (ss -M -i)
                String conn = json.output.lines().filter(l -> l.contains("\"local\": \"" + mptcpLocal + "\", \"remote\": \""
                        + listener + "\"")).findFirst().orElseThrow(() -> new AssertionError("no JSON row " + mptcpLocal + "\n" + json));
                for (String field : new String[] {"subflows_max", "add_addr_signal", "add_addr_accepted", "local_addr_used",
                        "csum_enabled", "retransmits", "bytes_sent", "bytes_received", "bytes_acked"}) {
                    assertTrue(conn.matches(".*\"" + field + "\": \\d+.*"), field + " in " + conn);
                }
                java.util.regex.Matcher token = java.util.regex.Pattern.compile("\"token\": \"([0-9a-f]+)\"").matcher(conn);
                assertTrue(token.find(), conn);
                String kernelConn = ss("-M", mptcpLocal, listener);
                assertTrue(kernelConn.contains("token:" + token.group(1) + " "), "token " + token.group(1) + " vs ss -M -i: " + kernelConn);

                // INFO: one line per destination without MPTCP, not repeated
                app.send("connect 127.0.0.1 " + plainServer.getLocalPort());
                app.expect("CONNECTED ");
                try (Socket again = plainServer.accept()) {
                    assertEquals(3, status(jdk, app.pid()).counter("connections_tcp"));
                }
                List<String> info = app.agentLines();
                assertEquals(1, info.stream().filter(l -> l.equals("mptcp-agent: INFO: " + plainRemote
                        + " answers without MPTCP: connections to it run as plain TCP (first one; not repeated)")).count(),
                        app.output());
                assertEquals(1, info.stream().filter(l -> l.startsWith("mptcp-agent: INFO: client 127.0.0.1 connects"
                        + " without MPTCP")).count(), app.output());
                assertEquals(0, info.stream().filter(l -> l.contains(" WARN: ") || l.contains("ERROR")).count(), app.output());
                assertFalse(app.stderrLines().stream().anyMatch(l -> l.contains("Exception")), app.output());
            }

            // the target JVM keeps no leftover of the status requests
            AgentCli props = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
            assertEquals(0, props.exit, props.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mbeanAppearsOnceTheApplicationCreatesThePlatformServer(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.PeerApp")) {
            app.expect("STARTED");
            app.send("listen");
            String port = app.expect("LISTEN ").split(" ")[1];
            app.send("connect 127.0.0.1 " + port);
            app.expect("CONNECTED ");
            accepted(app, 1);
            Thread.sleep(2500); // longer than the agent's watch period: it still must not have created the server
            Status s = status(jdk, app.pid());
            assertTrue(s.items.get("jmx").startsWith("waiting"), s.cli.toString());
            app.send("jmx");
            String jmx = app.expect("JMX");
            assertTrue(jmx.contains("connections_mptcp=2 connections_tcp=0 sockets_mptcp=2 mptcp_available=yes"), jmx);
            app.expect("JMXEND");
            // the status() operation answers what status <pid> prints; an unknown attribute is an error, not 0
            List<String> op = app.stdoutLines().stream().filter(l -> l.startsWith("JMXSTATUS "))
                    .map(l -> l.substring("JMXSTATUS ".length())).collect(java.util.stream.Collectors.toList());
            Status cli = status(jdk, app.pid());
            for (String key : new String[] {"sockets_mptcp", "connections_mptcp", "connections_mptcp_accepted", "connections_tcp"}) {
                assertTrue(op.contains(key + ": " + cli.counter(key)), key + " in status():\n" + String.join("\n", op) + "\nCLI:\n" + cli.cli);
            }
            assertEquals(cli.rows.size(), op.stream().filter(l -> l.matches("\\s*(LISTEN|ESTAB)\\s.*")).count(),
                    "the socket table in status():\n" + String.join("\n", op) + "\nCLI:\n" + cli.cli);
            assertTrue(app.stdoutLines().contains("JMXUNKNOWN AttributeNotFoundException"), app.output());
            assertEquals("registered mptcp.agent:type=Agent", cli.items.get("jmx"));
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mptcpDisabledInTheNamespace(Jdk jdk) throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            try (ChildJvm app = ChildJvm.javaIn(ns, jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.PeerApp")) {
                app.expect("STARTED");
                app.send("listen");
                String port = app.expect("LISTEN ").split(" ")[1];
                app.send("connect 127.0.0.1 " + port);
                String local = "127.0.0.1:" + app.expect("CONNECTED ").split(" ")[1];
                accepted(app, 1);
                Status s = status(jdk, app.pid());
                assertTrue(s.items.get("mptcp_available").startsWith("no (ENOPROTOOPT: net.mptcp.enabled=0"), s.cli.toString());
                assertEquals(0, s.counter("sockets_mptcp"), s.cli.toString());
                assertEquals(2, s.counter("sockets_tcp_fallback"), s.cli.toString());
                assertEquals(2, s.counter("sockets_tcp_fallback_ENOPROTOOPT"), s.cli.toString());
                assertEquals(0, s.counter("connections_mptcp"), s.cli.toString());
                assertEquals(0, s.counter("connections_tcp"), "plain TCP sockets are not fallbacks: " + s.cli);
                assertEquals("tcp", s.row("127.0.0.1:" + port, "*")[3]);
                assertEquals("tcp", s.row(local, "127.0.0.1:" + port)[3]);
                assertEquals("tcp", s.row("127.0.0.1:" + port, local)[3]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void jvmWithoutAgentSaysNotLoaded(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), "mptcp.it.apps.PeerApp")) {
            app.expect("STARTED");
            AgentCli text = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
            assertEquals(1, text.exit, text.toString());
            assertTrue(text.output.startsWith("agent: not loaded\n"), text.toString());
            AgentCli json = AgentCli.run(jdk, "status", String.valueOf(app.pid()), "--json");
            assertEquals(1, json.exit, json.toString());
            assertTrue(json.output.contains("\"agent\": \"not loaded\""), json.toString());
            // status loads nothing into a JVM without the agent
            AgentCli again = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
            assertTrue(again.output.startsWith("agent: not loaded\n"), again.toString());
        }
    }

    @Test
    void badTargetsGiveOneClearMessage() throws Exception {
        AgentCli notNumber = AgentCli.run(Jdk.JDK17, "status", "12x");
        assertEquals(2, notNumber.exit, notNumber.toString());
        assertTrue(notNumber.output.contains("invalid pid '12x'"), notNumber.toString());

        int missing = 4_194_000;
        while (Files.exists(Paths.get("/proc/" + missing))) {
            missing++;
        }
        AgentCli gone = AgentCli.run(Jdk.JDK17, "status", String.valueOf(missing));
        assertEquals(2, gone.exit, gone.toString());
        assertTrue(gone.output.contains("no such process: " + missing), gone.toString());

        AgentCli usage = AgentCli.run(Jdk.JDK17, "status");
        assertEquals(2, usage.exit, usage.toString());
        assertTrue(usage.output.contains("usage: status <pid> [--json]"), usage.toString());

        Process sleep = new ProcessBuilder("sleep", "60").start();
        try {
            AgentCli notJvm = AgentCli.run(Jdk.JDK17, "status", String.valueOf(sleep.pid()));
            assertEquals(2, notJvm.exit, notJvm.toString());
            assertTrue(notJvm.output.contains("is not a Java virtual machine"), notJvm.toString());
        } finally {
            sleep.destroyForcibly();
        }
    }
}
