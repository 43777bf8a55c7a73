package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import mptcp.it.AgentCli;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;

/**
 * Issue 22, Netty's close: the per-path accounting reads each MPTCP connection's subflows as Netty closes it
 * ({@code FileDescriptor.markClosed}: epoll closes the fd itself, io_uring through its ring), so that what a short
 * connection carried is counted even when no periodic look saw it. Echo server and client (two connections, 8 bytes
 * each way) in two namespaces; at {@code log=debug} each side logs the last figures of each connection it closed, read
 * from the kernel; the server's {@code status} table then holds them for its interface, with no subflow open.
 */
class NettyPathsIT {

    /** One close path per row, each JDK once: epoll and io_uring close differently; 4.1 is another copy of the class. */
    static java.util.stream.Stream<Arguments> cases() {
        return java.util.stream.Stream.of(Arguments.of(Jdk.JDK17, "4.2.18.Final", "epoll"),
                Arguments.of(Jdk.JDK25, "4.2.18.Final", "io_uring"),
                Arguments.of(Jdk.JDK25, "4.1.137.Final", "epoll"));
    }

    @ParameterizedTest(name = "{0} Netty {1} {2}")
    @MethodSource("cases")
    void closedConnectionsKeepWhatTheyCarried(Jdk jdk, String version, String transport) throws Exception {
        String cp = TwoHosts.classpath(version);
        try (TwoHosts hosts = new TwoHosts();
             ChildJvm server = TwoHosts.java(hosts.server, jdk, cp, List.of(ChildJvm.agentArg("log=debug")),
                     "mptcp.it.netty.NettyEcho", transport, "server", "0.0.0.0", "0")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            try (ChildJvm client = TwoHosts.java(hosts.client, jdk, cp, List.of(ChildJvm.agentArg("log=debug")),
                    "mptcp.it.netty.NettyEcho", transport, "client", hosts.serverIp, port, "2")) {
                client.expect("READY");
                client.send("close");
                assertEquals(0, client.exit(30_000), client.output());
                List<String> closed = closing(client);
                assertEquals(2, closed.size(), client.output());
                for (String l : closed) {
                    assertTrue(l.matches(".*: subflow 1 \\S+ " + hosts.clientIp.replace(".", "\\.")
                            + " sent=8 received=8"), l);
                }
            }
            long end = System.nanoTime() + 10_000_000_000L;
            while (closing(server).size() < 2 && System.nanoTime() - end < 0) {
                Thread.sleep(50);
            }
            List<String> closed = closing(server);
            assertEquals(2, closed.size(), server.output());
            AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
            String veth = "v" + hosts.server.name.substring(4);
            String row = status.output.lines().filter(l -> l.startsWith(veth + " ")).findFirst().orElse("");
            // INTERFACE SENT_BYTES RECEIVED_BYTES RETRANSMITTED_BYTES SUBFLOWS
            assertTrue(row.matches(veth + " +16 +16 +0 +0"), "the server's interface row: " + row + "\n" + status);
            assertTrue(status.output.contains("subflows_opened: 2\n"), status.toString());
            assertTrue(status.output.contains("subflow_failures: 0\n"), status.toString());
        }
    }

    /** The agent's DEBUG lines of a last look at a closing connection. */
    private static List<String> closing(ChildJvm jvm) {
        return jvm.agentLines().stream().filter(l -> l.contains(": closing, its subflows' last figures:"))
                .collect(Collectors.toList());
    }
}
