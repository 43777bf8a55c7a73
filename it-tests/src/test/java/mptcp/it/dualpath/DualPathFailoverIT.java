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

import org.junit.jupiter.api.Test;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * Scenario 6: during a transfer, a router drops everything it forwards ({@code iptables -A FORWARD -j DROP}); the
 * transfer completes byte-exact over the other path. Right before the cut the kernel shows one MPTCP connection with one
 * subflow per path; a progress line printed after the cut shows bytes still missing. The stall (longest time without progress) is printed, not
 * asserted: timings belong to bench/dual-path.sh.
 */
class DualPathFailoverIT {
    private static final long N = 3_000_000;
    private static final long RATE = 1_000_000;

    /** Java client and server under the agent: cut the upper path, restore it; then the same with the lower path. */
    @Test
    void javaToJavaSurvivesLosingEitherPath() throws Exception {
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            ChildJvm server = bed.traffic(net.server, Jdk.JDK17, "", "server", "" + PORT, "--conns", "2",
                    "--expect", "" + N, "--interval", "100");
            server.await(l -> l.startsWith("listening"), 30_000);
            for (int path = 1; path <= 2; path++) {
                String conn = "s" + (path - 1);
                ChildJvm client = bed.traffic(net.client, Jdk.JDK17, "", "client", SERVER_UPPER, "" + PORT,
                        "--send", "" + N, "--rate", "" + RATE);
                bed.awaitTwoSubflows(PORT, 10_000);
                long before = awaitRx(server, conn, N / 4);
                String subflows = assertTwoSubflowsNow(net);
                net.cut(path);
                int cutAt = server.stdoutLines().size();
                try {
                    String after = progressAfterCut(server, conn, cutAt);
                    assertEquals(0, client.exit(60_000), "client" + client);
                    String result = server.await(l -> l.startsWith("result " + conn + " "), 30_000);
                    assertTrue(result.contains(" ok=true "), result + server);
                    System.out.printf("path %d cut after %d bytes (%s later); subflows before the cut:%n%s%n%s;"
                            + " longest 100 ms-interval stall %d ms%n", path, before, after, subflows, result,
                            Bed.longestStall(server.stdoutLines(), conn));
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
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            ChildJvm server = bed.traffic(net.server, Jdk.JDK17, "", "server", "" + PORT, "--expect", "" + N,
                    "--interval", "100");
            server.await(l -> l.startsWith("listening"), 30_000);
            ChildJvm nc = bed.startBinary("nc", net.client, List.of("mptcpize", "run", "nc", "-N", SERVER_UPPER, "" + PORT));
            Thread feed = Bed.feed(nc, N, RATE);
            bed.awaitTwoSubflows(PORT, 10_000);
            long before = awaitRx(server, "s0", N / 4);
            String subflows = assertTwoSubflowsNow(net);
            net.cut(1);
            String after = progressAfterCut(server, "s0", server.stdoutLines().size());
            assertEquals(0, server.exit(60_000), "server" + server);
            feed.join(10_000);
            String result = Bed.result(server, "s0");
            assertTrue(result.contains(" ok=true "), result + server);
            assertEquals(0, nc.exit(30_000), "nc" + nc);
            System.out.printf("upper path cut after %d bytes (%s later); subflows before the cut:%n%s%n%s;"
                    + " longest 100 ms-interval stall %d ms%n", before, after, subflows, result,
                    Bed.longestStall(server.stdoutLines(), "s0"));
        }
    }

    /** Waits (instead of sleeping) until the receiver's progress shows at least {@code bytes}; returns that rx. */
    private static long awaitRx(ChildJvm p, String conn, long bytes) throws InterruptedException {
        String line = p.await(l -> l.startsWith("progress " + conn + " ") && Bed.field(l, "rx") >= bytes, 30_000);
        long rx = Bed.field(line, "rx");
        assertTrue(rx < N, "the transfer was over before the cut could come (" + line + ")" + p);
        return rx;
    }

    /**
     * Right before the cut: one MPTCP connection at the client with one additional subflow, and in both namespaces
     * exactly one established MPTCP subflow per path (single-path TCP, or a second subflow that never came, fails).
     */
    private static String assertTwoSubflowsNow(DualPathTopology net) throws Exception {
        String msk = Ss.mptcpInfo(net.client);
        List<String> conns = msk.lines().filter(l -> l.contains(":" + PORT + " ") || l.endsWith(":" + PORT))
                .collect(Collectors.toList());
        assertEquals(1, conns.size(), "one MPTCP connection at the client:\n" + msk);
        assertTrue(msk.contains("subflows:1"), "the MPTCP connection has one additional subflow:\n" + msk);
        StringBuilder seen = new StringBuilder(msk);
        for (String[] ns : new String[][] {{net.client, CLIENT_UPPER, SERVER_UPPER, CLIENT_LOWER, SERVER_LOWER},
                {net.server, SERVER_UPPER, CLIENT_UPPER, SERVER_LOWER, CLIENT_LOWER}}) {
            List<Ss.Entry> sf = Bed.established(Ss.connected(ns[0], PORT))
                    .filter(x -> x.subflow).collect(Collectors.toList());
            seen.append(sf).append('\n');
            assertEquals(1, sf.stream().filter(x -> x.localAddress().equals(ns[1]) && x.peerAddress().equals(ns[2])).count(),
                    "one subflow over the upper path in " + ns[0] + ": " + sf);
            assertEquals(1, sf.stream().filter(x -> x.localAddress().equals(ns[3]) && x.peerAddress().equals(ns[4])).count(),
                    "one subflow over the lower path in " + ns[0] + ": " + sf);
            assertEquals(2, sf.size(), "subflows in " + ns[0] + ": " + sf);
        }
        return seen.toString();
    }

    /**
     * Proof that the cut came mid-transfer: a progress line of {@code conn} printed well after the cut (at least 500 ms
     * of the receiver's clock after the first line read after the cut, so not a line already on its way) still shows
     * fewer than {@code N} bytes; the transfer's result (checked by the caller) then has all N. Returns that line.
     */
    private static String progressAfterCut(ChildJvm p, String conn, int from) throws InterruptedException {
        long end = System.nanoTime() + 30_000_000_000L;
        long first = -1;
        while (System.nanoTime() < end) {
            List<String> lines = p.stdoutLines().subList(from, p.stdoutLines().size());
            for (String l : lines) {
                if (l.startsWith("result " + conn + " ")) {
                    throw new AssertionError("the transfer ended within 500 ms of the cut: the cut may have come after"
                            + " it was over" + p);
                }
                if (!l.startsWith("progress " + conn + " ")) {
                    continue;
                }
                long t = Bed.field(l, "t");
                if (first < 0) {
                    first = t;
                } else if (t >= first + 500) {
                    assertTrue(Bed.field(l, "rx") < N, "all bytes had arrived 500 ms after the cut: " + l + p);
                    return l;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no progress line of " + conn + " after the cut" + p);
    }
}
