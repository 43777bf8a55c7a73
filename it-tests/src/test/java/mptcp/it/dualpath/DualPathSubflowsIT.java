package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.CLIENT_LOWER;
import static mptcp.agent.demo.DualPathTopology.CLIENT_UPPER;
import static mptcp.agent.demo.DualPathTopology.SERVER_LOWER;
import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.AgentCli;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * Scenario 5: while a Java client and a Java server under the agent exchange data, the kernel shows one MPTCP
 * connection made of two established TCP subflows, one per path; read with ss in both namespaces and with the
 * path manager's events ({@code ip mptcp monitor}) at the server.
 */
class DualPathSubflowsIT {
    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(strings = {"17", "25"})
    void twoSubflowsOnePerPath(String jdkVersion) throws Exception {
        Jdk jdk = jdkVersion.equals("17") ? Jdk.JDK17 : Jdk.JDK25;
        try (Bed bed = Bed.create(jdk)) {
            DualPathTopology net = bed.net;
            ChildJvm monitor = bed.start("ip mptcp monitor", net.server, List.of("ip", "mptcp", "monitor"));
            ChildJvm server = bed.traffic(net.server, jdk, "", "server", "" + PORT, "--expect", "3000000");
            server.await(l -> l.startsWith("listening"), 30_000);
            ChildJvm client = bed.traffic(net.client, jdk, "", "client", SERVER_UPPER, "" + PORT,
                    "--send", "3000000", "--rate", "1000000");
            String seen = bed.awaitTwoSubflows(PORT, 10_000);
            System.out.println(seen);
            // while data flows: exactly two subflows on each side, and one MPTCP socket at the client owning them
            List<Ss.Entry> c = Bed.established(Ss.connected(net.client, PORT)).collect(Collectors.toList());
            List<Ss.Entry> s = Bed.established(Ss.connected(net.server, PORT)).collect(Collectors.toList());
            assertEquals(2, c.size(), "client subflows: " + c);
            assertEquals(2, s.size(), "server subflows: " + s);
            String msk = Ss.mptcpInfo(net.client);
            System.out.println(msk);
            // (its state may already be CLOSE-WAIT: the server sends nothing and shuts its output down at once)
            assertEquals(1, msk.lines().filter(l -> l.contains(":" + PORT)).count(),
                    "one MPTCP connection at the client:\n" + msk);
            assertTrue(msk.contains("subflows:1"), "the MPTCP socket counts one additional subflow:\n" + msk);
            // the agent's view from inside the client JVM (status <pid>) agrees with ss: one MPTCP connection, 2 subflows
            String status = status(jdk, client.pid());
            System.out.println(status);
            String row = status.lines().filter(l -> l.contains(" " + SERVER_UPPER + ":" + PORT + " ")).findFirst().orElse("");
            assertTrue(row.contains(" mptcp ") && row.trim().endsWith(" 2"), "status row of the connection: " + row + "\n" + status);
            assertTrue(status.contains("connections_mptcp: 1\n"), status);
            assertEquals(0, client.exit(60_000), "client" + client);
            assertEquals(0, server.exit(30_000), "server" + server);
            assertTrue(Bed.result(server, "s0").contains(" ok=true "), Bed.result(server, "s0"));
            // the path manager's view at the server: the connection, then a subflow joined over the lower path
            String events = String.join("\n", monitor.stdoutLines());
            System.out.println(events);
            String established = monitor.stdoutLines().stream().filter(l -> l.contains("] ESTABLISHED")
                    || (l.contains("ESTABLISHED]") && !l.contains("SF_ESTABLISHED"))).findFirst().orElse("");
            assertTrue(established.contains(SERVER_UPPER) && established.contains(CLIENT_UPPER),
                    "ESTABLISHED event over the upper path:\n" + events);
            String joined = monitor.stdoutLines().stream().filter(l -> l.contains("SF_ESTABLISHED")).findFirst().orElse("");
            assertTrue(joined.contains(SERVER_LOWER) && joined.contains(CLIENT_LOWER),
                    "SF_ESTABLISHED event over the lower path:\n" + events);
            assertEquals(token(established), token(joined), "both events belong to one connection:\n" + events);
        }
    }

    private static String status(Jdk jdk, long pid) throws Exception {
        AgentCli status = AgentCli.run(jdk, "status", String.valueOf(pid));
        assertEquals(0, status.exit, status.toString());
        return status.output;
    }

    private static String token(String event) {
        for (String f : event.split("\\s+")) {
            if (f.startsWith("token=")) {
                return f;
            }
        }
        return "no token in: " + event;
    }
}
