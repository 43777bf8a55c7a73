package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.JDK17;
import static mptcp.it.dualpath.Bed.JDK25;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import mptcp.agent.demo.DualPathTopology;

/**
 * Scenarios 1-4 of the dual-path proof: Java peers under the agent talking to ncat/nc peers made MPTCP by mptcpize,
 * to each other, and to a plain TCP ncat. Every transfer is checked byte by byte; that the connection really is
 * MPTCP over both paths (or really plain TCP) is read from the kernel with ss in the namespaces.
 */
class DualPathPeersIT {
    private static final long N = 2_000_000;
    private static final long RATE = 1_000_000;
    private static final String BYTES = Long.toString(N);

    /** 1. Java server under the agent, client {@code mptcpize run nc}: data both ways, byte-exact, two subflows. */
    @Test
    void javaServerWithMptcpizedNcClient() throws Exception {
        try (Bed bed = Bed.create(JDK17)) {
            DualPathTopology net = bed.net;
            Bed.Peer server = bed.traffic(net.server, JDK17, "log=debug", "server", "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            server.await(l -> l.startsWith("listening"), 30_000);
            Bed.Peer nc = bed.startBinary("nc", net.client, List.of("mptcpize", "run", "nc", "-N", SERVER_UPPER, "" + PORT));
            Thread feed = Bed.feed(nc, N, RATE);
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            assertEquals(0, server.exit(60_000), "Java server" + server);
            assertEquals(0, nc.exit(30_000), "nc" + nc);
            feed.join(10_000);
            assertTrue(server.result("s0").contains(" ok=true "), server.result("s0"));
            Bed.assertPattern(nc.bytes(), N, "what nc received from the Java server");
            assertTrue(server.stderr.stream().anyMatch(l -> l.contains("listener created as MPTCP")), server.toString());
        }
    }

    /** 2. Java client under the agent, server {@code mptcpize run ncat -lk 0.0.0.0 PORT}: byte-exact, two subflows. */
    @Test
    void javaClientWithMptcpizedNcatServer() throws Exception {
        try (Bed bed = Bed.create(JDK17)) {
            DualPathTopology net = bed.net;
            Bed.Peer ncat = bed.startBinary("ncat", net.server, List.of("mptcpize", "run", "ncat", "-lk", "0.0.0.0", "" + PORT));
            ncat.process.getOutputStream().close();
            awaitListener(net, net.server);
            Bed.Peer client = bed.traffic(net.client, JDK17, "log=debug", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", "0");
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            assertEquals(0, client.exit(60_000), "Java client" + client);
            awaitBytes(ncat, N);
            Bed.assertPattern(ncat.bytes(), N, "what ncat received from the Java client");
            assertTrue(client.stderr.stream().anyMatch(l -> l.contains("socket created as MPTCP")), client.toString());
        }
    }

    /** 3. Java client and Java server, both under the agent: both ways, byte-exact, two subflows. */
    @ParameterizedTest(name = "JDK home {0}")
    @ValueSource(strings = {"17", "25"})
    void javaToJava(String jdkVersion) throws Exception {
        String jdk = jdkVersion.equals("17") ? JDK17 : JDK25;
        try (Bed bed = Bed.create(jdk)) {
            DualPathTopology net = bed.net;
            Bed.Peer server = bed.traffic(net.server, jdk, "", "server", "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            server.await(l -> l.startsWith("listening"), 30_000);
            Bed.Peer client = bed.traffic(net.client, jdk, "", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            assertEquals(0, client.exit(60_000), "Java client" + client);
            assertEquals(0, server.exit(30_000), "Java server" + server);
            assertTrue(client.result("c0").contains(" ok=true "), client.result("c0"));
            assertTrue(server.result("s0").contains(" ok=true "), server.result("s0"));
        }
    }

    /** 4. Java client under the agent, plain {@code ncat -l} (no MPTCP): works as plain TCP, byte-exact. */
    @Test
    void javaClientFallsBackToTcpWithPlainNcat() throws Exception {
        try (Bed bed = Bed.create(JDK17)) {
            DualPathTopology net = bed.net;
            Bed.Peer ncat = bed.startBinary("ncat", net.server, List.of("ncat", "-l", "0.0.0.0", "" + PORT, "--recv-only"));
            ncat.process.getOutputStream().close();
            awaitListener(net, net.server);
            Bed.Peer client = bed.traffic(net.client, JDK17, "log=debug", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", "0");
            client.await(l -> l.startsWith("connected"), 30_000);
            List<DualPathTopology.Socket> atServer = net.tcpSockets(net.server, PORT);
            String mptcpAtClient = net.mptcpSockets(net.client);
            assertEquals(0, client.exit(60_000), "Java client" + client);
            assertEquals(0, ncat.exit(30_000), "ncat" + ncat);
            Bed.assertPattern(ncat.bytes(), N, "what plain ncat received from the Java client");
            // the agent did make an MPTCP socket; the kernel fell back to TCP at the protocol level
            assertTrue(client.stderr.stream().anyMatch(l -> l.contains("socket created as MPTCP")), client.toString());
            assertEquals(1, atServer.size(), "one TCP connection at the server: " + atServer);
            assertFalse(atServer.get(0).mptcpSubflow, "the server's socket is plain TCP: " + atServer);
            assertTrue(mptcpAtClient.contains("fallback"), "client's MPTCP socket has fallen back:\n" + mptcpAtClient);
        }
    }

    static void awaitListener(DualPathTopology net, String ns) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (net.exec(ns, "ss", "-ltnH", "sport = :" + PORT).contains(":" + PORT)) {
                return;
            }
            Thread.sleep(25);
        }
        throw new AssertionError("nothing listens on port " + PORT + " in " + ns);
    }

    static void awaitBytes(Bed.Peer p, long n) throws InterruptedException {
        for (int i = 0; i < 200 && p.bytes().length < n; i++) {
            Thread.sleep(25);
        }
    }
}
