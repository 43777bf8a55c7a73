package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import mptcp.it.ChildJvm;
import mptcp.it.Cli;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * A Reactor Netty HTTP server (Spring WebFlux's default server, on Netty's native transport) under the agent, asked
 * from another namespace by {@code mptcpize run curl} and by a plain {@code curl} at the same time: the accepted
 * connections are MPTCP and plain TCP respectively, read from the kernel while both requests are open; both answered.
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
                List<Ss.Entry> s = List.of();
                for (int i = 0; i < 40 && Ss.count(s, "mptcp", "ESTAB") + Ss.count(s, "tcp", "ESTAB") < 2; i++) {
                    Thread.sleep(50); // both requests are held open 3 s by the server
                    s = Ss.sockets(server.pid(), hosts.server.name);
                }
                assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
                assertEquals(1, Ss.count(s, "mptcp", "ESTAB"), "mptcpize's curl: " + s);
                assertEquals(1, Ss.count(s, "tcp", "ESTAB"), "plain curl: " + s);
                assertEquals(0, mptcp.waitFor(), mptcp.output());
                assertEquals(0, plain.waitFor(), plain.output());
                assertEquals(List.of("hello from reactor-netty"), mptcp.stdoutLines(), mptcp.output());
                assertEquals(List.of("hello from reactor-netty"), plain.stdoutLines(), plain.output());
            }
            Cli status = Cli.run(jdk, "status", String.valueOf(server.pid()));
            assertTrue(status.output.contains("sockets_mptcp: 1"), status.toString());
            server.finish();
            assertEquals(List.of(), server.agentLines(), server.output());
        }
    }
}
