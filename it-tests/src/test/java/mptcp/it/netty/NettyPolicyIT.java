package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import mptcp.it.ChildJvm;
import mptcp.it.Cli;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * The agent's policy on Netty's native transport (Netty 4.2 epoll), as on the JDK path: attach to a running Netty
 * JVM, a namespace with net.mptcp.enabled=0 (fallback=tcp: one WARN; fallback=fail: Netty's own exception with the
 * agent's message), mode=server and mode=client. Server and client in two namespaces over a veth; protocols from ss.
 */
class NettyPolicyIT {
    private static final String APP = "mptcp.it.netty.NettyEcho";

    private static ChildJvm server(TwoHosts hosts, Jdk jdk, String options) throws Exception {
        return TwoHosts.java(hosts.server, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg(options)), APP,
                "epoll", "server", "0.0.0.0", "0");
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void attachMakesLaterConnectionsMptcp(Jdk jdk) throws Exception {
        try (TwoHosts hosts = new TwoHosts(); ChildJvm server = server(hosts, jdk, "")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, TwoHosts.NETTY42,
                    List.of("-XX:+EnableDynamicAgentLoading"), APP, "epoll", "client-attach", hosts.serverIp, port, "1")) {
                client.expect("WAITING");
                Cli attach = Cli.run(jdk, "attach", String.valueOf(client.pid()));
                assertEquals(0, attach.exit, attach.toString());
                client.send("go");
                client.expect("READY");
                assertEquals(2, client.stdoutLines().stream().filter(l -> l.startsWith("ECHO hello")).count(), client.output());
                List<Ss.Entry> c = Ss.sockets(client.pid(), hosts.client.name);
                assertEquals(1, Ss.count(c, "tcp", "ESTAB"), "the connection from before the attach stays TCP: " + c);
                assertEquals(1, Ss.count(c, "mptcp", "ESTAB"), "the one after the attach is MPTCP: " + c);
                Cli status = Cli.run(jdk, "status", String.valueOf(client.pid()));
                assertTrue(status.output.contains("connections_mptcp: 1"), status.toString());
                client.finish();
                assertEquals(List.of(), client.agentLines(), client.output());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mptcpDisabledRunsOnTcpWithOneWarningOrFails(Jdk jdk) throws Exception {
        try (TwoHosts hosts = new TwoHosts()) {
            hosts.server.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            try (ChildJvm server = server(hosts, jdk, "")) {
                String port = server.expect("LISTEN ").split(" ")[1];
                try (ChildJvm client = TwoHosts.java(hosts.client, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                        APP, "epoll", "client", hosts.serverIp, port, "2")) {
                    client.expect("READY");
                    assertEquals(2, client.stdoutLines().stream().filter(l -> l.startsWith("ECHO hello")).count(), client.output());
                    List<Ss.Entry> s = Ss.sockets(server.pid(), hosts.server.name);
                    assertEquals(1, Ss.count(s, "tcp", "LISTEN"), s.toString());
                    assertEquals(2, Ss.count(s, "tcp", "ESTAB"), s.toString());
                    assertEquals(0, s.stream().filter(e -> e.protocol.equals("mptcp")).count(), s.toString());
                    client.finish();
                }
                // fallback=fail in the same namespace: the channel cannot be made; Netty's own exception, our message
                try (ChildJvm strict = TwoHosts.java(hosts.server, jdk, TwoHosts.NETTY42,
                        List.of(ChildJvm.agentArg("fallback=fail")), APP, "epoll", "client", hosts.serverIp, port, "1")) {
                    strict.expect("READY");
                    assertTrue(strict.stdoutLines().stream().anyMatch(l -> l.startsWith("EXCEPTION ")
                            && l.contains("io.netty.channel.ChannelException: MPTCP socket refused by the kernel: ENOPROTOOPT")
                            && l.contains("fallback=fail")), strict.output());
                    strict.finish();
                }
                server.finish();
                List<String> agent = server.agentLines();
                assertEquals(1, agent.size(), server.output());
                assertTrue(agent.get(0).startsWith("mptcp-agent: WARN: ") && agent.get(0).contains("ENOPROTOOPT")
                        && agent.get(0).contains("net.mptcp.enabled=1"), agent.get(0));
            }
        }
    }

    /**
     * mode=server converts listeners only, mode=client outgoing sockets only: the role is read at creation, from the
     * channel class that makes the socket. Server mode=server + client mode=client: MPTCP end to end; server
     * mode=client + client mode=server: nothing converted.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void modesConvertOnlyTheirRole(Jdk jdk) throws Exception {
        try (TwoHosts hosts = new TwoHosts()) {
            check(hosts, jdk, "mode=server", "mode=client", "mptcp");
            check(hosts, jdk, "mode=client", "mode=server", "tcp");
        }
    }

    private static void check(TwoHosts hosts, Jdk jdk, String serverMode, String clientMode, String protocol) throws Exception {
        try (ChildJvm server = server(hosts, jdk, serverMode)) {
            String port = server.expect("LISTEN ").split(" ")[1];
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg(clientMode)),
                    APP, "epoll", "client", hosts.serverIp, port, "1")) {
                client.expect("READY");
                assertTrue(client.stdoutLines().stream().anyMatch(l -> l.startsWith("ECHO hello 0")), client.output());
                List<Ss.Entry> s = Ss.sockets(server.pid(), hosts.server.name);
                List<Ss.Entry> c = Ss.sockets(client.pid(), hosts.client.name);
                String what = serverMode + " / " + clientMode + ": server " + s + ", client " + c;
                assertEquals(1, Ss.count(s, protocol, "LISTEN"), what);
                assertEquals(1, Ss.count(s, protocol, "ESTAB"), what);
                assertEquals(1, Ss.count(c, protocol, "ESTAB"), what);
                assertEquals(3, s.size() + c.size(), what);
                client.finish();
            }
            server.finish();
        }
    }
}
