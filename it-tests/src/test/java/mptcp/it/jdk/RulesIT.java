package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The connection rules ({@code loopback}, {@code rules}), on JDK 17 and 25, each socket's protocol read from the kernel
 * ({@code ss}): loopback stays TCP by default and is MPTCP with {@code loopback=mptcp}; over a veth between two
 * namespaces connections are MPTCP unless a rule says TCP; listeners by their bind address and port; every JDK API;
 * options, bound port and blocking mode survive the conversion at connect.
 */
class RulesIT {
    private static final String APIS = "socket,channel,async,http";

    private static ChildJvm socketApp(Jdk jdk, String options) throws Exception {
        return ChildJvm.java(jdk, List.of(ChildJvm.agentArg(options)), "mptcp.it.apps.SocketApp",
                "socket", "channel", "channel-inet6", "async", "http");
    }

    /** Default (loopback=tcp): every listener on loopback and every loopback connection is plain TCP. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void loopbackStaysTcpByDefault(Jdk jdk) throws Exception {
        try (ChildJvm app = socketApp(jdk, "log=info")) {
            app.expect("READY");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(5, app.stdoutLines().stream().filter(l -> l.startsWith("OK ")).count(), app.output());
            assertEquals(List.of(), s.stream().filter(e -> e.protocol.equals("mptcp")).collect(Collectors.toList()), app.output());
            assertEquals(5, Ss.count(s, "tcp", "LISTEN"), s.toString());
            assertTrue(Ss.count(s, "tcp", "ESTAB") >= 10, s.toString());

            StatusIT.Status status = StatusIT.status(jdk, app.pid());
            assertTrue(status.cli.output.contains("\nrule_1: tcp connect 127.0.0.0/8  (loopback=tcp)  kept_tcp=4\n"), status.cli.output);
            assertTrue(status.cli.output.contains("\nrule_2: tcp connect ::1  (loopback=tcp)  kept_tcp=1\n"), status.cli.output);
            assertTrue(status.cli.output.contains("\nrule_3: tcp bind 127.0.0.0/8  (loopback=tcp)  kept_tcp=4\n"), status.cli.output);
            assertTrue(status.cli.output.contains("\nrule_4: tcp bind ::1  (loopback=tcp)  kept_tcp=1\n"), status.cli.output);
            assertEquals(5, status.counter("connections_tcp_rule"), status.cli.output);
            assertEquals(5, status.counter("listeners_tcp_rule"), status.cli.output);
            assertEquals(0, status.counter("connections_mptcp"), status.cli.output);
            assertTrue(status.items.get("config").contains(",loopback=tcp,"), status.cli.output);
            app.finish();
            // log=info: one line per rule decision and destination (5 destinations; 2 bind addresses, all port 0)
            List<String> lines = app.agentLines();
            assertEquals(7, lines.stream().filter(l -> l.contains(": plain TCP by rule '")).count(), app.output());
            assertTrue(lines.stream().anyMatch(l -> l.matches("mptcp-agent: INFO: connections to 127\\.0\\.0\\.1:\\d+: plain TCP by rule"
                    + " 'tcp connect 127\\.0\\.0\\.0/8' \\(loopback=tcp\\); once per destination")), app.output());
            assertTrue(lines.stream().anyMatch(l -> l.matches("mptcp-agent: INFO: connections to \\[::1\\]:\\d+: plain TCP"
                    + " by rule 'tcp connect ::1' \\(loopback=tcp\\); once per destination")), app.output());
            assertTrue(lines.stream().anyMatch(l -> l.matches("mptcp-agent: INFO: sockets bound to 127\\.0\\.0\\.1:0: plain TCP by rule"
                    + " 'tcp bind 127\\.0\\.0\\.0/8' \\(loopback=tcp\\); once per address")), app.output());
        }
    }

    /** JDK 17's legacy PlainSocketImpl connects and binds in its own natives: the same rules apply there. */
    @org.junit.jupiter.api.Test
    void legacyPlainSocketImplObeysTheRules() throws Exception {
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of("-Djdk.net.usePlainSocketImpl=true", ChildJvm.agentArg("")),
                "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK socket"), app.output());
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(List.of(), s.stream().filter(e -> e.protocol.equals("mptcp")).collect(Collectors.toList()), s.toString());
            assertEquals(3, s.size(), s.toString());
            StatusIT.Status status = StatusIT.status(Jdk.JDK17, app.pid());
            assertEquals(1, status.counter("connections_tcp_rule"), status.cli.output);
            assertEquals(1, status.counter("listeners_tcp_rule"), status.cli.output);
            app.finish();
        }
    }

    /** loopback=mptcp: today's behaviour, every socket MPTCP, nothing logged. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void loopbackMptcpMakesLoopbackMptcp(Jdk jdk) throws Exception {
        try (ChildJvm app = socketApp(jdk, "loopback=mptcp")) {
            app.expect("READY");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(5, app.stdoutLines().stream().filter(l -> l.startsWith("OK ")).count(), app.output());
            assertEquals(List.of(), s.stream().filter(e -> e.protocol.equals("tcp")).collect(Collectors.toList()), app.output());
            assertEquals(5, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            assertTrue(Ss.count(s, "mptcp", "ESTAB") >= 10, s.toString());
            app.finish();
            assertEquals(List.of(), app.stderrLines());
        }
    }

    /**
     * Rule order on loopback, every API: the application's "mptcp connect 127.0.0.1 P1" comes before the loopback
     * rules, so connections to P1 are MPTCP and those to P2 plain TCP (converted just before connect).
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void applicationRulesComeFirst(Jdk jdk) throws Exception {
        try (ChildJvm server = ChildJvm.java(jdk, List.of(ChildJvm.agentArg("loopback=mptcp")), "mptcp.it.servers.RulesApp",
                "server", "127.0.0.1", "0", "0")) {
            int p1 = Integer.parseInt(server.expect("LISTEN ").substring(7));
            int p2 = Integer.parseInt(server.expect("LISTEN ").substring(7));
            server.expect("READY");
            String a = "127.0.0.1:" + p1;
            String b = "127.0.0.1:" + p2;
            try (ChildJvm client = ChildJvm.java(jdk, List.of(ChildJvm.agentArg("rules=mptcp connect 127.0.0.1 " + p1)),
                    "mptcp.it.servers.RulesApp", "client", APIS, a, b)) {
                client.expect("READY");
                Map<String, Integer> ports = connections(client, 8);
                List<Ss.Entry> mine = Ss.sockets(client.pid());
                List<Ss.Entry> theirs = Ss.sockets(server.pid());
                for (String api : APIS.split(",")) {
                    assertProtocol("mptcp", mine, theirs, ports.get(api + " " + a), api + " -> " + a);
                    assertProtocol("tcp", mine, theirs, ports.get(api + " " + b), api + " -> " + b);
                }
                StatusIT.Status status = StatusIT.status(jdk, client.pid());
                assertTrue(status.cli.output.contains("\nrule_1: mptcp connect 127.0.0.1 " + p1 + "  (agent arguments, rule 1)\n"), status.cli.output);
                assertTrue(status.cli.output.contains("\nrule_2: tcp connect 127.0.0.0/8  (loopback=tcp)  kept_tcp=4\n"), status.cli.output);
                assertEquals(4, status.counter("connections_tcp_rule"), status.cli.output);
                assertEquals(4, status.counter("connections_mptcp"), status.cli.output);
                client.finish();
            }
        }
    }

    /**
     * Options set before connect, the bound port and non-blocking mode survive the conversion to TCP at connect
     * (SocketChannel non-blocking, and Socket), read back through the JDK (getsockopt).
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void optionsSurviveTheConversion(Jdk jdk) throws Exception {
        try (ChildJvm server = ChildJvm.java(jdk, List.of(), "mptcp.it.servers.RulesApp", "server", "127.0.0.1", "0")) {
            int port = Integer.parseInt(server.expect("LISTEN ").substring(7));
            server.expect("READY");
            try (ChildJvm client = ChildJvm.java(jdk, List.of(ChildJvm.agentArg("log=debug")), "mptcp.it.servers.RulesApp",
                    "options", "127.0.0.1", String.valueOf(port))) {
                client.expect("READY");
                List<String> out = client.stdoutLines();
                for (String kind : new String[] {"channel", "socket"}) {
                    String before = line(out, "BEFORE " + kind + " ");
                    String after = line(out, "AFTER " + kind + " ");
                    assertTrue(before.contains("nodelay=true keepalive=true") && before.contains("linger=7 reuseaddr=true"), before);
                    assertEquals(before, after, client.output());
                    int local = Integer.parseInt(line(out, "CONN " + kind + " "));
                    assertTrue(after.endsWith(" port=" + local), after);
                    Ss.Entry e = Ss.sockets(client.pid()).stream().filter(x -> x.state.equals("ESTAB") && x.localPort() == local)
                            .findFirst().orElseThrow(() -> new AssertionError("no connection from port " + local));
                    assertEquals("tcp", e.protocol, e.toString());
                }
                assertEquals("true", line(out, "NONBLOCKING "), client.output());
                client.finish();
                // the sockets were MPTCP until connect (bound to the wildcard: no bind rule), then converted
                assertEquals(2, client.agentLines().stream().filter(l -> l.matches("mptcp-agent: DEBUG: fd \\d+: connect to"
                        + " 127\\.0\\.0\\.1:" + port + ": plain TCP by rule 'tcp connect 127\\.0\\.0\\.0/8'")).count(), client.output());
            }
        }
    }

    /**
     * Two namespaces joined by a veth, IPv4 and IPv6. Server (wildcard listeners, "tcp bind * 7002"): 7000 and 7001
     * MPTCP, 7002 TCP. Client, rules from a file: "tcp connect SUBNET4 7000" and "tcp connect PREFIX6": to v4:7000 TCP,
     * v4:7001 MPTCP, v6:7001 TCP; every API; both ends checked.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void betweenNamespaces(Jdk jdk) throws Exception {
        int net = 1 + (int) (Math.random() * 250);
        String v4 = "10.213." + net + ".";
        String v6 = "fd00:213:" + Integer.toHexString(net) + "::";
        Path rules = Files.createTempFile("mptcp-rules", ".txt");
        try (Netns s = new Netns(); Netns c = new Netns()) {
            String veth = "v" + s.name.substring(4);
            Proc.check(List.of("ip", "-n", s.name, "link", "add", veth + "s", "type", "veth", "peer", "name", veth + "c", "netns", c.name));
            s.exec("ip", "addr", "add", v4 + "1/24", "dev", veth + "s");
            c.exec("ip", "addr", "add", v4 + "2/24", "dev", veth + "c");
            s.exec("ip", "addr", "add", v6 + "1/64", "dev", veth + "s", "nodad");
            c.exec("ip", "addr", "add", v6 + "2/64", "dev", veth + "c", "nodad");
            s.exec("ip", "link", "set", veth + "s", "up");
            c.exec("ip", "link", "set", veth + "c", "up");
            Files.write(rules, List.of("# written by RulesIT", "tcp connect " + v4 + "0/24 7000   # one port",
                    "tcp connect " + v6 + "/64"), StandardCharsets.UTF_8);

            List<String> serverCmd = new ArrayList<>(List.of(jdk.java(), ChildJvm.agentArg("rules=tcp bind * 7002"), "-cp",
                    ChildJvm.CLASSPATH, "mptcp.it.servers.RulesApp", "server", "::", "7000", "7001", "7002"));
            try (ChildJvm server = ChildJvm.command(s.wrap(serverCmd), Map.of())) {
                server.expect("READY");
                List<Ss.Entry> listeners = Ss.sockets(server.pid(), s.name);
                assertEquals(List.of("mptcp LISTEN 7000", "mptcp LISTEN 7001", "tcp LISTEN 7002"), listeners.stream()
                        .filter(e -> e.state.equals("LISTEN")).map(e -> e.protocol + " LISTEN " + e.localPort()).sorted()
                        .collect(Collectors.toList()), listeners.toString());

                String tcp4 = v4 + "1:7000";
                String mptcp4 = v4 + "1:7001";
                String tcp6 = "[" + v6 + "1]:7001";
                List<String> clientCmd = List.of(jdk.java(), ChildJvm.agentArg("log=info,rules=@" + rules), "-cp",
                        ChildJvm.CLASSPATH, "mptcp.it.servers.RulesApp", "client", APIS, tcp4, mptcp4, tcp6);
                try (ChildJvm client = ChildJvm.command(c.wrap(clientCmd), Map.of())) {
                    client.expect("READY");
                    Map<String, Integer> ports = connections(client, 12);
                    List<Ss.Entry> mine = Ss.sockets(client.pid(), c.name);
                    List<Ss.Entry> theirs = Ss.sockets(server.pid(), s.name);
                    for (String api : APIS.split(",")) {
                        assertProtocol("tcp", mine, theirs, ports.get(api + " " + tcp4), api + " -> " + tcp4);
                        assertProtocol("mptcp", mine, theirs, ports.get(api + " " + mptcp4), api + " -> " + mptcp4);
                        assertProtocol("tcp", mine, theirs, ports.get(api + " " + tcp6), api + " -> " + tcp6);
                    }
                    client.finish();
                    List<String> lines = client.agentLines();
                    assertEquals(List.of(
                            "mptcp-agent: INFO: connections to " + tcp4 + ": plain TCP by rule 'tcp connect " + v4 + "0/24 7000' ("
                                    + rules + ", line 2); once per destination",
                            "mptcp-agent: INFO: connections to " + tcp6 + ": plain TCP"
                                    + " by rule 'tcp connect " + v6 + "/64' (" + rules + ", line 3); once per destination"),
                            lines.stream().filter(l -> l.contains(" by rule ")).collect(Collectors.toList()), client.output());
                }
            }
        } finally {
            Files.deleteIfExists(rules);
        }
    }

    /**
     * A bad rule: one line naming it, its place and the syntax; the agent does not install, so even with
     * loopback=mptcp (which would make every socket here MPTCP) the application runs on plain TCP.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void badRuleLeavesTheApplicationUnchanged(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.agentArg("loopback=mptcp,rules=tcp connect 10.0.0.0/8;tcp connec 10.0.0.0/8")),
                "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK socket"), app.output());
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(List.of(), s.stream().filter(e -> e.protocol.equals("mptcp")).collect(Collectors.toList()), s.toString());
            assertEquals(3, s.size(), s.toString());
            app.finish();
            assertEquals(List.of("mptcp-agent: ERROR: invalid rule (agent arguments, rule 2, column 5): unknown scope"
                    + " 'connec' (connect or bind); a rule is ACTION SCOPE ADDRESS[/PREFIX] [PORT[-PORT]] with ACTION tcp|mptcp, SCOPE connect|bind,"
                    + " ADDRESS an IPv4 or IPv6 literal or *, PORT 0-65535 or *, rules separated by ';' (e.g. 'tcp connect"
                    + " 10.0.0.0/8 5432;mptcp bind * 8080-8090' or '@/etc/mptcp.rules'); the agent is not installed, the"
                    + " application continues without MPTCP"), app.agentLines());
        }
    }

    /** "CONN api target port" lines of a RulesApp client: api + " " + target -> local port; all {@code n} must be there. */
    private static Map<String, Integer> connections(ChildJvm client, int n) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String l : client.stdoutLines()) {
            if (l.startsWith("CONN ")) {
                String[] f = l.split(" ");
                out.put(f[1] + " " + f[2], Integer.parseInt(f[3]));
            }
        }
        assertEquals(n, out.size(), client.output());
        return out;
    }

    /** The client's connection from {@code port} and the server's end of it are both {@code protocol}. */
    private static void assertProtocol(String protocol, List<Ss.Entry> client, List<Ss.Entry> server, int port, String what) {
        List<Ss.Entry> mine = client.stream().filter(e -> e.state.equals("ESTAB") && e.localPort() == port).collect(Collectors.toList());
        List<Ss.Entry> theirs = server.stream().filter(e -> e.state.equals("ESTAB") && e.peer.endsWith(":" + port))
                .collect(Collectors.toList());
        assertEquals(1, mine.size(), what + ": client sockets " + client);
        assertEquals(1, theirs.size(), what + ": server sockets " + server);
        assertEquals(protocol, mine.get(0).protocol, what + ": client " + mine);
        assertEquals(protocol, theirs.get(0).protocol, what + ": server " + theirs);
    }

    private static String line(List<String> out, String prefix) {
        return out.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new AssertionError("no line " + prefix + " in " + out));
    }
}
