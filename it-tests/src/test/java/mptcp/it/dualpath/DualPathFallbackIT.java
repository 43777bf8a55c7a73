package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * Scenario 7: the same topology with {@code net.mptcp.enabled=0} in the client's namespace. The kernel refuses MPTCP
 * sockets there (ENOPROTOOPT); the Java client under the agent still completes its transfer, over plain TCP.
 */
class DualPathFallbackIT {
    @Test
    void javaClientCompletesOverTcpWhenMptcpIsDisabled() throws Exception {
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            net.mptcpEnabled(net.client, false);
            ChildJvm server = bed.traffic(net.server, Jdk.JDK17, "", "server", "" + PORT,
                    "--send", "2000000", "--expect", "2000000");
            server.await(l -> l.startsWith("listening"), 30_000);
            ChildJvm client = bed.traffic(net.client, Jdk.JDK17, "", "client", SERVER_UPPER, "" + PORT,
                    "--send", "2000000", "--rate", "1000000", "--expect", "2000000");
            client.await(l -> l.startsWith("connected"), 30_000);
            List<Ss.Entry> atServer = Ss.connected(net.server, PORT);
            List<Ss.Entry> atClient = Ss.connected(net.client, PORT);
            String mptcpAtClient = Ss.mptcpInfo(net.client);
            assertEquals(0, client.exit(60_000), "client" + client);
            assertEquals(0, server.exit(30_000), "server" + server);
            assertTrue(Bed.result(client, "c0").contains(" ok=true "), Bed.result(client, "c0"));
            assertTrue(Bed.result(server, "s0").contains(" ok=true "), Bed.result(server, "s0"));
            assertTrue(client.stderrLines().stream().anyMatch(l -> l.startsWith("mptcp-agent: WARN:")), "one WARN line" + client);
            assertEquals(1, client.stderrLines().stream().filter(l -> l.startsWith("mptcp-agent: WARN:")).count(), client.toString());
            assertEquals(1, atClient.size(), "one connection, no second subflow: " + atClient);
            assertFalse(atClient.get(0).subflow, "client socket is plain TCP: " + atClient);
            assertFalse(atServer.stream().anyMatch(s -> s.subflow), "server socket is plain TCP: " + atServer);
            assertFalse(mptcpAtClient.contains(":" + PORT), "no MPTCP socket in the client namespace:\n" + mptcpAtClient);
        }
    }
}
