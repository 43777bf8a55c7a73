package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import mptcp.it.ChildJvm;
import mptcp.it.AgentCli;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * Netty's native transports under the agent, server and client in two network namespaces joined by a veth: Netty 4.2
 * epoll and io_uring, Netty 4.1 epoll (its own class path), each socket's protocol read from the kernel ({@code ss}),
 * the counters of {@code status <pid>} read by getsockopt inside each JVM.
 */
class NettyIT {

    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("mptcp.it.netty.TwoHosts#transports")
    void echoServerAndClientAreMptcp(Jdk jdk, String version, String transport) throws Exception {
        String cp = TwoHosts.classpath(version);
        try (TwoHosts hosts = new TwoHosts();
             ChildJvm server = TwoHosts.java(hosts.server, jdk, cp, List.of(ChildJvm.agentArg("")),
                     "mptcp.it.netty.NettyEcho", transport, "server", "0.0.0.0", "0")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            assertTrue(server.stdoutLines().contains("NETTY " + version + " " + transport), server.output());
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, cp, List.of(ChildJvm.agentArg("")),
                    "mptcp.it.netty.NettyEcho", transport, "client", hosts.serverIp, port, "2")) {
                client.expect("READY");
                List<String> out = client.stdoutLines();
                assertTrue(out.stream().anyMatch(l -> l.startsWith("ECHO hello 0 /" + hosts.clientIp)), client.output());
                assertTrue(out.stream().anyMatch(l -> l.startsWith("ECHO hello 1 /" + hosts.clientIp)), client.output());

                List<Ss.Entry> s = Ss.sockets(server.pid(), hosts.server.name);
                assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
                assertEquals(2, Ss.count(s, "mptcp", "ESTAB"), s.toString());
                assertEquals(0, s.stream().filter(e -> e.protocol.equals("tcp")).count(), s.toString());
                List<Ss.Entry> c = Ss.sockets(client.pid(), hosts.client.name);
                assertEquals(2, Ss.count(c, "mptcp", "ESTAB"), c.toString());
                assertEquals(0, c.stream().filter(e -> e.protocol.equals("tcp")).count(), c.toString());

                AgentCli clientStatus = AgentCli.run(jdk, "status", String.valueOf(client.pid()));
                assertTrue(clientStatus.output.contains("sockets_mptcp: 2"), clientStatus.toString());
                AgentCli serverStatus = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
                assertTrue(serverStatus.output.contains("sockets_mptcp: 1"), serverStatus.toString());
                assertTrue(clientStatus.output.contains("connections_mptcp: 2"), clientStatus.toString());
                assertTrue(serverStatus.output.contains("connections_mptcp_accepted: 2"), serverStatus.toString());
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
            server.finish();
            assertEquals(List.of(), server.agentLines(), server.output());
        }
    }

    /** gRPC-java on grpc-netty-shaded (a shaded Netty 4.2 with its own epoll library): unary calls over MPTCP. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void grpcServerAndClientAreMptcp(Jdk jdk) throws Exception {
        try (TwoHosts hosts = new TwoHosts();
             ChildJvm server = TwoHosts.java(hosts.server, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                     "mptcp.it.netty.GrpcEcho", "server", "0.0.0.0", "0")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                    "mptcp.it.netty.GrpcEcho", "client", hosts.serverIp, port, "3")) {
                client.expect("READY");
                assertTrue(client.stdoutLines().containsAll(List.of("REPLY echo hello 0", "REPLY echo hello 1",
                        "REPLY echo hello 2")), client.output());
                List<Ss.Entry> s = Ss.sockets(server.pid(), hosts.server.name);
                assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
                assertEquals(1, Ss.count(s, "mptcp", "ESTAB"), s.toString());
                assertEquals(0, s.stream().filter(e -> e.protocol.equals("tcp")).count(), s.toString());
                List<Ss.Entry> c = Ss.sockets(client.pid(), hosts.client.name);
                assertEquals(1, Ss.count(c, "mptcp", "ESTAB"), c.toString());
                assertEquals(0, c.stream().filter(e -> e.protocol.equals("tcp")).count(), c.toString());
                AgentCli status = AgentCli.run(jdk, "status", String.valueOf(client.pid()));
                assertTrue(status.output.contains("connections_mptcp: 1"), status.toString());
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
            server.finish();
            assertEquals(List.of(), server.agentLines(), server.output());
        }
    }
}
