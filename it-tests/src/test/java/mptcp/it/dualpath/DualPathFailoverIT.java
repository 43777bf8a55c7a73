package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.JDK17;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import mptcp.agent.demo.DualPathTopology;

/**
 * Scenario 6: during a transfer, a router drops everything it forwards ({@code iptables -A FORWARD -j DROP}); the
 * transfer completes byte-exact over the other path. The stall (longest time without progress) is printed, not
 * asserted: timings belong to bench/dual-path.sh.
 */
class DualPathFailoverIT {
    private static final long N = 3_000_000;
    private static final long RATE = 1_000_000;

    /** Java client and server under the agent: cut the upper path, restore it; then the same with the lower path. */
    @Test
    void javaToJavaSurvivesLosingEitherPath() throws Exception {
        try (Bed bed = Bed.create(JDK17)) {
            DualPathTopology net = bed.net;
            Bed.Peer server = bed.traffic(net.server, JDK17, "", "server", "" + PORT, "--conns", "2",
                    "--expect", "" + N, "--interval", "100");
            server.await(l -> l.startsWith("listening"), 30_000);
            for (int path = 1; path <= 2; path++) {
                String conn = "s" + (path - 1);
                Bed.Peer client = bed.traffic(net.client, JDK17, "", "client", SERVER_UPPER, "" + PORT,
                        "--send", "" + N, "--rate", "" + RATE);
                bed.awaitTwoSubflows(PORT, 10_000);
                Thread.sleep(800);
                long before = lastRx(server, conn);
                net.cut(path);
                try {
                    assertTrue(before < N, "the cut came before the end of the transfer (" + before + " bytes)");
                    assertEquals(0, client.exit(60_000), "client" + client);
                    String result = server.await(l -> l.startsWith("result " + conn + " "), 30_000);
                    assertTrue(result.contains(" ok=true "), result + server);
                    System.out.printf("path %d cut after %d bytes: %s; longest 100 ms-interval stall %d ms%n",
                            path, before, result, Bed.longestStall(server.lines, conn));
                } finally {
                    net.restore(path);
                }
            }
            assertEquals(0, server.exit(30_000), "server" + server);
        }
    }

    /** Java server under the agent receiving from {@code mptcpize run nc}: cut the upper path (the initial subflow's). */
    @Test
    void javaServerReceivingFromNcSurvivesLosingUpperPath() throws Exception {
        try (Bed bed = Bed.create(JDK17)) {
            DualPathTopology net = bed.net;
            Bed.Peer server = bed.traffic(net.server, JDK17, "", "server", "" + PORT, "--expect", "" + N,
                    "--interval", "100");
            server.await(l -> l.startsWith("listening"), 30_000);
            Bed.Peer nc = bed.startBinary("nc", net.client, List.of("mptcpize", "run", "nc", "-N", SERVER_UPPER, "" + PORT));
            Thread feed = Bed.feed(nc, N, RATE);
            bed.awaitTwoSubflows(PORT, 10_000);
            Thread.sleep(800);
            long before = lastRx(server, "s0");
            net.cut(1);
            assertTrue(before < N, "the cut came before the end of the transfer (" + before + " bytes)");
            assertEquals(0, server.exit(60_000), "server" + server);
            feed.join(10_000);
            String result = server.result("s0");
            assertTrue(result.contains(" ok=true "), result + server);
            assertEquals(0, nc.exit(30_000), "nc" + nc);
            System.out.printf("upper path cut after %d bytes: %s; longest 100 ms-interval stall %d ms%n",
                    before, result, Bed.longestStall(server.lines, "s0"));
        }
    }

    private static long lastRx(Bed.Peer p, String conn) {
        long rx = 0;
        for (String l : p.lines) {
            if (l.startsWith("progress " + conn + " ")) {
                rx = Bed.field(l, "rx");
            }
        }
        return rx;
    }
}
