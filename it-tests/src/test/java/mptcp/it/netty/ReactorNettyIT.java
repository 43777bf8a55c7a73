package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import mptcp.it.ChildJvm;
import mptcp.it.AgentCli;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * A Reactor Netty HTTP server (Spring WebFlux's default server, on Netty's native transport) under the agent, asked
 * from another namespace by {@code mptcpize run curl} and by a plain {@code curl} at the same time: the accepted
 * connections are MPTCP and plain TCP respectively, read from the kernel while each request is open; both answered.
 */
class ReactorNettyIT {

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mptcpAndPlainClientsAreServed(Jdk jdk) throws Exception {
        try (TwoHosts hosts = new TwoHosts();
             ChildJvm server = TwoHosts.java(hosts.server, jdk, TwoHosts.NETTY42, List.of(ChildJvm.agentArg("")),
                     "mptcp.it.netty.ReactorHello", "0.0.0.0", "0")) {
            String port = server.expect("LISTEN ").split(" ")[1];
            String url = "http://" + hosts.serverIp + ":" + port + "/slow";
            try (ChildJvm mptcp = ChildJvm.command(hosts.client.wrap(List.of("mptcpize", "run", "curl", "-sS", "--max-time", "20", url)), Map.of());
                 ChildJvm plain = ChildJvm.command(hosts.client.wrap(List.of("curl", "-sS", "--max-time", "20", url)), Map.of())) {
                // each request is held open 3 s by the server; on a loaded machine the two curls may not overlap:
                // every accepted connection seen while polling counts, by its ends
                java.util.Map<String, String> seen = new java.util.TreeMap<>();
                List<Ss.Entry> s = List.of();
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (seen.size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    s = Ss.sockets(server.pid(), hosts.server.name);
                    s.stream().filter(e -> e.state.equals("ESTAB")).forEach(e -> seen.put(e.local + " " + e.peer, e.protocol));
                }
                assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
                assertEquals(1, java.util.Collections.frequency(seen.values(), "mptcp"), "mptcpize's curl: " + seen);
                assertEquals(1, java.util.Collections.frequency(seen.values(), "tcp"), "plain curl: " + seen);
                assertEquals(0, mptcp.waitFor(), mptcp.output());
                assertEquals(0, plain.waitFor(), plain.output());
                assertEquals(List.of("hello from reactor-netty"), mptcp.stdoutLines(), mptcp.output());
                assertEquals(List.of("hello from reactor-netty"), plain.stdoutLines(), plain.output());
            }
            AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
            assertTrue(status.output.contains("sockets_mptcp: 1"), status.toString());
            server.finish();
            assertEquals(List.of(), server.agentLines(), server.output());
        }
    }
}
