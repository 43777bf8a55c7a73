package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import mptcp.it.AgentCli;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * The connection rules ({@code loopback}, {@code rules}) on Netty's native transports, as on the JDK path (RulesIT):
 * Netty 4.2.18 epoll and io_uring, Netty 4.1.137 epoll, JDK 17 and 25, each socket's protocol read from the kernel
 * ({@code ss}), both ends, and the connections carry data. Netty 4.1's event loop adds a channel's socket to its
 * edge-triggered epoll set when the channel is registered, before connect or bind: a socket the rules turn into plain
 * TCP there keeps working only because that registration is added again for the new socket (without it the connect
 * is never reported and no echo comes back).
 */
class NettyRulesIT {
    private static final String APP = "mptcp.it.netty.NettyEcho";

    /**
     * Default ({@code loopback=tcp}), one JVM, over loopback: a listener on the wildcard (MPTCP) and one on 127.0.0.1
     * (plain TCP, by its bind address), a client connection to each over 127.0.0.1: plain TCP at both ends, echoed.
     */
    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void loopbackStaysTcpByDefault(Jdk jdk, String version, String transport) throws Exception {
        try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.classpath(version), List.of(ChildJvm.agentArg("log=info")), APP,
                transport, "loop", "0.0.0.0,127.0.0.1", "127.0.0.1", "2")) {
            String[] listen = app.expect("LISTEN ").split(" ");
            int wildcard = Integer.parseInt(listen[1]);
            int loopback = Integer.parseInt(listen[2]);
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("NETTY " + version + " " + transport), app.output());
            assertEchoes(app, 2);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals("mptcp", listener(s, wildcard), "the wildcard listener: " + s);
            assertEquals("tcp", listener(s, loopback), "the listener on 127.0.0.1: " + s);
            assertEquals(4, Ss.count(s, "tcp", "ESTAB"), "both ends of both connections plain TCP: " + s);
            assertEquals(0, Ss.count(s, "mptcp", "ESTAB"), s.toString());

            String status = status(jdk, app);
            assertTrue(status.contains("\nrule_1: tcp connect 127.0.0.0/8  (loopback=tcp)  kept_tcp=2\n"), status);
            assertTrue(status.contains("\nrule_3: tcp bind 127.0.0.0/8  (loopback=tcp)  kept_tcp=1\n"), status);
            assertEquals(2, counter(status, "connections_tcp_rule"), status);
            assertEquals(1, counter(status, "listeners_tcp_rule"), status);
            assertEquals(0, counter(status, "connections_mptcp"), status);
            app.finish();
            List<String> lines = app.agentLines();
            assertEquals(3, lines.stream().filter(l -> l.contains(": plain TCP by rule '")).count(), app.output());
            for (int port : new int[] {wildcard, loopback}) {
                assertTrue(lines.contains("mptcp-agent: INFO: connections to 127.0.0.1:" + port + ": plain TCP by rule"
                        + " 'tcp connect 127.0.0.0/8' (loopback=tcp); once per destination"), app.output());
            }
            assertTrue(lines.contains("mptcp-agent: INFO: sockets bound to 127.0.0.1:0: plain TCP by rule"
                    + " 'tcp bind 127.0.0.0/8' (loopback=tcp); once per address"), app.output());
            assertEquals(List.of(), lines.stream().filter(l -> l.contains(" WARN: ") || l.contains(" ERROR: "))
                    .collect(Collectors.toList()), app.output());
        }
    }

    /** {@code loopback=mptcp}: the same JVM, every socket MPTCP, nothing converted. */
    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void loopbackMptcpKeepsLoopbackMptcp(Jdk jdk, String version, String transport) throws Exception {
        try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.classpath(version), List.of(ChildJvm.loopbackAgentArg("")), APP,
                transport, "loop", "0.0.0.0,127.0.0.1", "127.0.0.1", "2")) {
            app.expect("READY");
            assertEchoes(app, 2);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(2, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            assertEquals(4, Ss.count(s, "mptcp", "ESTAB"), s.toString());
            assertEquals(0, s.stream().filter(e -> e.protocol.equals("tcp")).count(), s.toString());
            app.finish();
            assertEquals(List.of(), app.agentLines(), app.output());
        }
    }

    /**
     * Two namespaces over a veth. Server (agent, {@code rules=tcp bind * 7002}): listeners on 7000 and 7001 MPTCP, on
     * 7002 plain TCP. Client (agent, {@code rules=tcp connect SERVER 7000}): its connection to 7000 plain TCP, to 7001
     * MPTCP; both ends of each read from the kernel; the counters of status.
     */
    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void ruleKeepsOneDestinationTcpBetweenNamespaces(Jdk jdk, String version, String transport) throws Exception {
        String cp = TwoHosts.classpath(version);
        try (TwoHosts hosts = new TwoHosts();
             ChildJvm server = TwoHosts.java(hosts.server, jdk, cp, List.of(ChildJvm.agentArg("rules=tcp bind * 7002")),
                     APP, transport, "server", "0.0.0.0", "7000,7001,7002")) {
            assertEquals("LISTEN 7000 7001 7002", server.expect("LISTEN "), server.output());
            String rule = "tcp connect " + hosts.serverIp + " 7000";
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, cp, List.of(ChildJvm.agentArg("rules=" + rule)),
                    APP, transport, "client", hosts.serverIp, "7000,7001", "2")) {
                client.expect("READY");
                assertEchoes(client, 2);
                List<Ss.Entry> c = Ss.sockets(client.pid(), hosts.client.name);
                List<Ss.Entry> s = Ss.sockets(server.pid(), hosts.server.name);
                String what = "client " + c + ", server " + s;
                assertEquals("mptcp", listener(s, 7000), what);
                assertEquals("mptcp", listener(s, 7001), what);
                assertEquals("tcp", listener(s, 7002), what);
                assertEquals("tcp", connection(c, 7000, true), what);
                assertEquals("tcp", connection(s, 7000, false), what);
                assertEquals("mptcp", connection(c, 7001, true), what);
                assertEquals("mptcp", connection(s, 7001, false), what);

                String status = status(jdk, client);
                assertTrue(status.contains("\nrule_1: " + rule + "  (agent arguments, rule 1)  kept_tcp=1\n"), status);
                assertEquals(1, counter(status, "connections_tcp_rule"), status);
                assertEquals(1, counter(status, "connections_mptcp"), status);
                String serverStatus = status(jdk, server);
                assertEquals(1, counter(serverStatus, "listeners_tcp_rule"), serverStatus);
                assertEquals(1, counter(serverStatus, "connections_mptcp_accepted"), serverStatus);
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
            server.finish();
        }
    }

    /**
     * Each client socket starts with the protocol its connect will need, or is converted there, either way.
     * {@code loopback=mptcp,rules=tcp connect 127.0.0.2}, one JVM, a listener on the wildcard, four connections to
     * 127.0.0.1 (MPTCP), 127.0.0.2 (plain TCP), 127.0.0.1, 127.0.0.2. Through {@code Bootstrap.connect} the destination
     * is known when the socket is made: nothing is converted. Registered first and connected after (as gRPC and Reactor
     * Netty do) the socket is made as the last connect went, so here every one but the first is guessed wrong and
     * converted at its connect, MPTCP to TCP and TCP to MPTCP; on Netty 4.1, whose event loop registered the socket
     * with its epoll set before the connect, each conversion renews that registration (else no echo). Protocols from
     * {@code ss}, both ends; data echoed over each connection.
     */
    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void eachConnectionGetsItsProtocolWithOrWithoutADestinationAtCreation(Jdk jdk, String version, String transport)
            throws Exception {
        for (String mode : List.of("loop", "loop-register")) {
            try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.classpath(version),
                    List.of(ChildJvm.agentArg("loopback=mptcp,rules=tcp connect 127.0.0.2,log=debug")), APP, transport,
                    mode, "0.0.0.0", "127.0.0.1,127.0.0.2", "4")) {
                int port = Integer.parseInt(app.expect("LISTEN ").split(" ")[1]);
                app.expect("READY");
                assertEchoes(app, 4);
                List<Ss.Entry> s = Ss.sockets(app.pid());
                String what = mode + ": " + s;
                assertEquals("mptcp", listener(s, port), what);
                for (boolean toTcp : new boolean[] {false, true}) { // a connection to 127.0.0.2 has it at one end
                    List<Ss.Entry> ends = s.stream().filter(e -> e.state.equals("ESTAB") && toTcp
                            == (e.localAddress().equals("127.0.0.2") || e.peerAddress().equals("127.0.0.2")))
                            .collect(Collectors.toList());
                    String protocol = toTcp ? "tcp" : "mptcp";
                    assertEquals(4, ends.size(), "both ends of two connections: " + what);
                    assertTrue(ends.stream().allMatch(e -> e.protocol.equals(protocol)), protocol + ": " + what);
                }
                String status = status(jdk, app);
                assertEquals(2, counter(status, "connections_tcp_rule"), status);
                app.finish();
                List<String> lines = app.agentLines();
                long madeTcp = lines.stream().filter(l -> l.contains(" client socket made plain TCP (")).count();
                long toMptcp = lines.stream().filter(l -> l.contains(": made MPTCP before its connect")).count();
                long toTcp = lines.stream().filter(l -> l.contains(": connect to 127.0.0.2:") && l.contains(": plain TCP by rule")
                        && !l.endsWith("(made so at creation)")).count();
                long renewed = lines.stream().filter(l -> l.contains(" epoll registration(s) renewed")).count();
                if (mode.equals("loop")) {
                    assertEquals(List.of(2L, 0L, 0L, 0L), List.of(madeTcp, toMptcp, toTcp, renewed), "nothing converted: "
                            + app.output());
                    assertEquals(1 + 2, counter(status, "sockets_mptcp"), "the listener and the two to 127.0.0.1: " + status);
                } else {
                    // made MPTCP (as nothing came before), MPTCP -> TCP, TCP -> MPTCP, MPTCP -> TCP
                    assertEquals(List.of(1L, 1L, 2L), List.of(madeTcp, toMptcp, toTcp), app.output());
                    assertEquals(version.startsWith("4.1") && transport.equals("epoll") ? 3 : 0, renewed, app.output());
                }
                assertEquals(List.of(), lines.stream().filter(l -> l.contains(" WARN: ") || l.contains(" ERROR: "))
                        .collect(Collectors.toList()), app.output());
            }
        }
    }

    /**
     * TCP Fast Open ({@code TCP_FASTOPEN_CONNECT}, data queued before connect): Netty 4.2 connects with the first data
     * (epoll: {@code sendto(MSG_FASTOPEN)}; io_uring: a sendmsg through the ring), not through connect; the loopback
     * rule decides there too, so the connection is plain TCP and no conversion comes too late (a WARN).
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void fastOpenConnectsAreDecidedToo(Jdk jdk) throws Exception {
        for (String transport : List.of("epoll", "io_uring")) {
            try (ChildJvm server = TwoHosts.java(null, jdk, TwoHosts.NETTY42, List.of(), APP, transport, "server", "127.0.0.1", "0")) {
                String port = server.expect("LISTEN ").split(" ")[1];
                try (ChildJvm client = TwoHosts.java(null, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")), APP,
                        transport, "client-tfo", "127.0.0.1", port, "2")) {
                    client.expect("READY");
                    assertEchoes(client, 2);
                    List<Ss.Entry> c = Ss.sockets(client.pid());
                    assertEquals(2, Ss.count(c, "tcp", "ESTAB"), transport + ": " + c);
                    assertEquals(0, Ss.count(c, "mptcp", "ESTAB"), transport + ": " + c);
                    String status = status(jdk, client);
                    assertEquals(2, counter(status, "connections_tcp_rule"), transport + ": " + status);
                    client.finish();
                    assertEquals(List.of(), client.agentLines(), client.output());
                }
                server.finish();
            }
        }
    }

    /**
     * attach (retransformation) to a client JVM started without the agent, over loopback: the connection made before
     * is plain TCP (no agent), the one after is kept plain TCP by the default loopback rule (counted), and both echo.
     */
    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void attachAppliesTheRules(Jdk jdk, String version, String transport) throws Exception {
        String cp = TwoHosts.classpath(version);
        try (ChildJvm server = TwoHosts.java(null, jdk, cp, List.of(), APP, transport, "server", "127.0.0.1", "0")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            try (ChildJvm client = TwoHosts.java(null, jdk, cp, List.of("-XX:+EnableDynamicAgentLoading"), APP,
                    transport, "client-attach", "127.0.0.1", port, "1")) {
                client.expect("WAITING");
                AgentCli attach = AgentCli.run(jdk, "attach", String.valueOf(client.pid()));
                assertEquals(0, attach.exit, attach.toString());
                client.send("go");
                client.expect("READY");
                assertEchoes(client, 2);
                List<Ss.Entry> c = Ss.sockets(client.pid());
                assertEquals(2, Ss.count(c, "tcp", "ESTAB"), c.toString());
                assertEquals(0, Ss.count(c, "mptcp", "ESTAB"), c.toString());
                String status = status(jdk, client);
                assertEquals(1, counter(status, "connections_tcp_rule"), status);
                assertEquals(0, counter(status, "sockets_mptcp"), "made plain TCP at once (Bootstrap.connect named its"
                        + " destination; Bootstrap too was rewritten at the attach): " + status);
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
            server.finish();
        }
    }

    /**
     * {@code mode=server}: Netty's client sockets are its own plain TCP ones, which the rules leave alone (not counted,
     * nothing swapped); the listener on 127.0.0.1 is still kept TCP by its bind address.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void nettysOwnTcpSocketsAreLeftAlone(Jdk jdk) throws Exception {
        try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("mode=server")), APP,
                "epoll", "loop", "0.0.0.0,127.0.0.1", "127.0.0.1", "2")) {
            String[] listen = app.expect("LISTEN ").split(" ");
            app.expect("READY");
            assertEchoes(app, 2);
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals("mptcp", listener(s, Integer.parseInt(listen[1])), s.toString());
            assertEquals("tcp", listener(s, Integer.parseInt(listen[2])), s.toString());
            assertEquals(4, Ss.count(s, "tcp", "ESTAB"), s.toString());
            String status = status(jdk, app);
            assertEquals(0, counter(status, "connections_tcp_rule"), status);
            assertEquals(1, counter(status, "listeners_tcp_rule"), status);
            assertEquals(2, counter(status, "sockets_mptcp"), status);
            app.finish();
            assertEquals(List.of(), app.agentLines(), app.output());
        }
    }

    /** gRPC (grpc-netty-shaded: a shaded Netty 4.2, epoll) over loopback: the client's connection stays plain TCP. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void grpcOverLoopbackStaysTcp(Jdk jdk) throws Exception {
        try (ChildJvm server = TwoHosts.java(null, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                "mptcp.it.netty.GrpcEcho", "server", "0.0.0.0", "0")) {
            int port = Integer.parseInt(server.expect("LISTEN ").split(" ")[1]);
            try (ChildJvm client = TwoHosts.java(null, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                    "mptcp.it.netty.GrpcEcho", "client", "127.0.0.1", String.valueOf(port), "2")) {
                client.expect("READY");
                assertTrue(client.stdoutLines().containsAll(List.of("REPLY echo hello 0", "REPLY echo hello 1")), client.output());
                List<Ss.Entry> c = Ss.sockets(client.pid());
                List<Ss.Entry> s = Ss.sockets(server.pid());
                assertEquals("tcp", connection(c, port, true), c.toString());
                assertEquals("tcp", connection(s, port, false), s.toString());
                assertEquals("mptcp", listener(s, port), s.toString());
                String status = status(jdk, client);
                assertEquals(1, counter(status, "connections_tcp_rule"), status);
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
            server.finish();
        }
    }

    private static void assertEchoes(ChildJvm app, int count) {
        List<String> out = app.stdoutLines();
        for (int i = 0; i < count; i++) {
            String echo = "ECHO hello " + i + " ";
            assertTrue(out.stream().anyMatch(l -> l.startsWith(echo)), "no " + echo + "in\n" + app.output());
        }
        assertEquals(List.of(), out.stream().filter(l -> l.startsWith("EXCEPTION")).collect(Collectors.toList()), app.output());
    }

    /** The protocol of the listener on {@code port}. */
    private static String listener(List<Ss.Entry> s, int port) {
        List<Ss.Entry> l = s.stream().filter(e -> e.state.equals("LISTEN") && e.localPort() == port).collect(Collectors.toList());
        assertEquals(1, l.size(), "one listener on " + port + ": " + s);
        return l.get(0).protocol;
    }

    /** The protocol of the one ESTAB connection whose remote ({@code outgoing}) or local port is {@code port}. */
    private static String connection(List<Ss.Entry> s, int port, boolean outgoing) {
        List<Ss.Entry> c = s.stream().filter(e -> e.state.equals("ESTAB")
                && (outgoing ? Integer.parseInt(e.peer.substring(e.peer.lastIndexOf(':') + 1)) : e.localPort()) == port)
                .collect(Collectors.toList());
        assertEquals(1, c.size(), "one connection " + (outgoing ? "to" : "on") + " port " + port + ": " + s);
        return c.get(0).protocol;
    }

    private static String status(Jdk jdk, ChildJvm app) throws Exception {
        AgentCli cli = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
        assertEquals(0, cli.exit, cli.toString());
        return cli.output;
    }

    private static long counter(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ": ")) {
                return Long.parseLong(line.substring(key.length() + 2).trim());
            }
        }
        throw new AssertionError("no " + key + " in\n" + status);
    }
}
