package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Proc;
import mptcp.it.Ss;

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
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            ChildJvm server = bed.traffic(net.server, Jdk.JDK17, "log=debug", "server", "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            server.await(l -> l.startsWith("listening"), 30_000);
            ChildJvm nc = bed.startBinary("nc", net.client, List.of("mptcpize", "run", "nc", "-N", SERVER_UPPER, "" + PORT));
            Thread feed = Bed.feed(nc, N, RATE);
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            assertEquals(0, server.exit(60_000), "Java server" + server);
            assertEquals(0, nc.exit(30_000), "nc" + nc);
            feed.join(10_000);
            assertTrue(Bed.result(server, "s0").contains(" ok=true "), Bed.result(server, "s0"));
            Bed.assertPattern(nc.bytes(), N, "what nc received from the Java server");
            assertTrue(server.stderrLines().stream().anyMatch(l -> l.contains("listener created as MPTCP")), server.toString());
        }
    }

    /** 2. Java client under the agent, server {@code mptcpize run ncat -lk 0.0.0.0 PORT}: byte-exact, two subflows. */
    @Test
    void javaClientWithMptcpizedNcatServer() throws Exception {
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            ChildJvm ncat = bed.startBinary("ncat", net.server, List.of("mptcpize", "run", "ncat", "-lk", "0.0.0.0", "" + PORT));
            awaitListener(net, net.server);
            ChildJvm client = bed.traffic(net.client, Jdk.JDK17, "log=debug", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", "0");
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            // only now may ncat half-close (EOF on its stdin): Linux takes no MP_JOIN into a connection after the
            // peer's DATA_FIN, so closing ncat's stdin at once made the second subflow a race
            ncat.closeStdin();
            assertEquals(0, client.exit(60_000), "Java client" + client);
            awaitBytes(ncat, N);
            Bed.assertPattern(ncat.bytes(), N, "what ncat received from the Java client");
            assertTrue(client.stderrLines().stream().anyMatch(l -> l.contains("socket created as MPTCP")), client.toString());
        }
    }

    /** 3. Java client and Java server, both under the agent: both ways, byte-exact, two subflows. */
    @ParameterizedTest(name = "JDK home {0}")
    @ValueSource(strings = {"17", "25"})
    void javaToJava(String jdkVersion) throws Exception {
        Jdk jdk = jdkVersion.equals("17") ? Jdk.JDK17 : Jdk.JDK25;
        try (Bed bed = Bed.create(jdk)) {
            DualPathTopology net = bed.net;
            ChildJvm server = bed.traffic(net.server, jdk, "", "server", "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            server.await(l -> l.startsWith("listening"), 30_000);
            ChildJvm client = bed.traffic(net.client, jdk, "", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", BYTES);
            System.out.println(bed.awaitTwoSubflows(PORT, 10_000));
            assertEquals(0, client.exit(60_000), "Java client" + client);
            assertEquals(0, server.exit(30_000), "Java server" + server);
            assertTrue(Bed.result(client, "c0").contains(" ok=true "), Bed.result(client, "c0"));
            assertTrue(Bed.result(server, "s0").contains(" ok=true "), Bed.result(server, "s0"));
        }
    }

    /** 4. Java client under the agent, plain {@code ncat -l} (no MPTCP): works as plain TCP, byte-exact. */
    @Test
    void javaClientFallsBackToTcpWithPlainNcat() throws Exception {
        try (Bed bed = Bed.create(Jdk.JDK17)) {
            DualPathTopology net = bed.net;
            ChildJvm ncat = bed.startBinary("ncat", net.server, List.of("ncat", "-l", "0.0.0.0", "" + PORT, "--recv-only"));
            ncat.closeStdin();
            awaitListener(net, net.server);
            ChildJvm client = bed.traffic(net.client, Jdk.JDK17, "log=debug", "client", SERVER_UPPER, "" + PORT,
                    "--send", BYTES, "--rate", "" + RATE, "--expect", "0");
            client.await(l -> l.startsWith("connected"), 30_000);
            List<Ss.Entry> atServer = Ss.connected(net.server, PORT);
            String mptcpAtClient = Ss.mptcpInfo(net.client);
            assertEquals(0, client.exit(60_000), "Java client" + client);
            assertEquals(0, ncat.exit(30_000), "ncat" + ncat);
            Bed.assertPattern(ncat.bytes(), N, "what plain ncat received from the Java client");
            // the agent did make an MPTCP socket; the kernel fell back to TCP at the protocol level
            assertTrue(client.stderrLines().stream().anyMatch(l -> l.contains("socket created as MPTCP")), client.toString());
            assertEquals(1, atServer.size(), "one TCP connection at the server: " + atServer);
            assertFalse(atServer.get(0).subflow, "the server's socket is plain TCP: " + atServer);
            assertTrue(mptcpAtClient.contains("fallback"), "client's MPTCP socket has fallen back:\n" + mptcpAtClient);
        }
    }

    static void awaitListener(DualPathTopology net, String ns) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (Proc.check(DualPathTopology.in(ns, List.of("ss", "-ltnH", "sport = :" + PORT))).contains(":" + PORT)) {
                return;
            }
            Thread.sleep(25);
        }
        throw new AssertionError("nothing listens on port " + PORT + " in " + ns);
    }

    static void awaitBytes(ChildJvm p, long n) throws InterruptedException {
        for (int i = 0; i < 200 && p.bytes().length < n; i++) {
            Thread.sleep(25);
        }
    }
}
