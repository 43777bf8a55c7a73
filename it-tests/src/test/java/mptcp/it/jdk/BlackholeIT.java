package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The connect race against a middlebox that drops MPTCP SYNs (issue 23), on JDK 17 and 25, for the JDK's connect shapes
 * and Netty's epoll transport (4.2), kernel truth: two namespaces
 * ({@link BlackholeBed}), a server (under the agent: MPTCP listeners) with a good address and one whose MPTCP SYNs
 * iptables drops, kernel defaults in the client namespace ({@code syn_retrans_before_tcp_fallback=2},
 * {@code blackhole_timeout=3600}). What MPTCP is is read from the kernel: the server namespace's
 * {@code MPTcpExtMPCapableSYNRX} (MPTCP SYNs that reached it) and the client namespace's {@code MPTcpExtBlackhole}
 * (the kernel turning active MPTCP off for the namespace) and {@code MPTcpExtMPCapableSYNTXDrop} (its own fallback).
 */
class BlackholeIT {
    private static final int PORT = 8080;
    /** A listener the server's agent keeps plain TCP (rule): a destination that answers without MPTCP. */
    private static final int PLAIN_PORT = 8081;
    private static final int ROUNDS = 10;

    private static BlackholeBed bed;
    private static ChildJvm server;

    @BeforeAll
    static void bed() throws Exception {
        bed = new BlackholeBed();
        server = bed.keep(ChildJvm.javaIn(bed.server, Jdk.JDK17, List.of(ChildJvm.agentArg("rules=tcp bind * " + PLAIN_PORT)),
                "mptcp.it.servers.CountingServer", String.valueOf(PORT), String.valueOf(PLAIN_PORT)).named("server"));
        server.expect("READY");
    }

    @AfterAll
    static void close() {
        if (bed != null) {
            bed.close();
        }
    }

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            for (String api : List.of("socket", "channel", "http", "netty-epoll")) {
                out.add(Arguments.of(jdk, api));
            }
        }
        return out.stream();
    }

    /** One dial of {@link mptcp.it.apps.RaceClient}: where, how long (ms), what came back. */
    static final class Dial {
        final String address;
        final double millis;
        final String result;

        Dial(String line) {
            String[] f = line.split(" ", 4);
            address = f[1];
            millis = Long.parseLong(f[2]) / 1000.0;
            result = f.length > 3 ? f[3] : "";
        }

        @Override
        public String toString() {
            return address + " " + millis + " ms " + result;
        }
    }

    private static ChildJvm client(Jdk jdk, String api, int port, int rounds, String options, String... addresses)
            throws Exception {
        List<String> jvm = new ArrayList<>(List.of(ChildJvm.agentArg(options)));
        if (api.equals("legacy")) { // JDK 17's PlainSocketImpl: its own blocking connect
            jvm.add("-Djdk.net.usePlainSocketImpl=true");
            api = "socket";
        }
        List<String> args = new ArrayList<>(List.of(api, String.valueOf(port), String.valueOf(rounds)));
        args.addAll(List.of(addresses));
        return ChildJvm.javaIn(bed.client, jdk, jvm, "mptcp.it.apps.RaceClient", args.toArray(new String[0])).named("client");
    }

    private static List<Dial> dials(ChildJvm c) {
        return c.stdoutLines().stream().filter(l -> l.startsWith("DIAL ")).map(Dial::new).collect(Collectors.toList());
    }

    private static List<Dial> to(List<Dial> dials, String address) {
        return dials.stream().filter(d -> d.address.equals(address)).collect(Collectors.toList());
    }

    private static double median(List<Dial> dials) {
        List<Double> t = dials.stream().map(d -> d.millis).sorted().collect(Collectors.toList());
        return t.get(t.size() / 2);
    }

    private static long accepted(String address) {
        return server.stdoutLines().stream().filter(l -> l.equals("ACCEPTED " + PORT + " " + address)).count();
    }

    /**
     * 10 rounds alternating the good and the blackholed address: the first connect to the blackholed one is raced
     * (well under a second instead of the kernel's 3 s), later ones go plain TCP at once, every connection to the
     * good address is MPTCP (the kernel did not turn MPTCP off for the namespace), all data arrives.
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void firstConnectRacesThenTheDestinationGoesTcpAtOnce(Jdk jdk, String api) throws Exception {
        long synRx = BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX");
        long blackhole = BlackholeBed.counter(bed.client, "MPTcpExtBlackhole");
        long drop = BlackholeBed.counter(bed.client, "MPTcpExtMPCapableSYNTXDrop");
        try (ChildJvm c = client(jdk, api, PORT, ROUNDS, "log=info", bed.good, bed.blackholed)) {
            c.expect("ROUNDS DONE");
            List<Dial> dials = dials(c);
            assertEquals(2 * ROUNDS, dials.size(), c.output());
            assertTrue(dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            List<Dial> bad = to(dials, bed.blackholed);
            assertTrue(bad.get(0).millis <= 1000, "first connect to the blackholed address: " + bad.get(0) + c.output());
            assertTrue(median(bad.subList(1, bad.size())) <= 100, "later connects: " + bad + c.output());
            assertTrue(bad.get(1).millis >= 200, "the second is raced too (one lost SYN proves little): " + bad);
            // kernel truth: every good connection reached the server as MPTCP, and the kernel never fell back
            assertEquals(ROUNDS, BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX") - synRx, c.output());
            assertEquals(0, BlackholeBed.counter(bed.client, "MPTcpExtBlackhole") - blackhole, c.output());
            assertEquals(0, BlackholeBed.counter(bed.client, "MPTcpExtMPCapableSYNTXDrop") - drop, c.output());

            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(2, status.counter("races_started"), status.cli.output);
            assertEquals(2, status.counter("races_won_tcp"), status.cli.output);
            assertEquals(ROUNDS - 2, status.counter("connections_tcp_blackhole"), status.cli.output);
            assertEquals(ROUNDS, status.counter("connections_mptcp"), status.cli.output);
            String remembered = status.items.get("destination_1");
            assertTrue(remembered != null && remembered.startsWith(bed.blackholed + ":" + PORT + "  blackhole: ")
                    && remembered.contains("connections_tcp=" + (ROUNDS - 2)), status.cli.output);
            c.finish();
            assertEquals(1, c.agentLines().stream().filter(l -> l.startsWith("mptcp-agent: INFO: " + bed.blackholed + ":"
                    + PORT + " does not answer MPTCP (no SYN-ACK in ")).count(), c.output());
        }
    }

    /**
     * The other connect shapes: a timed Socket.connect, the asynchronous channels, HttpURLConnection, JDK 17's legacy
     * PlainSocketImpl, a Socket on a virtual thread (JDK 25: a non-blocking connect and the JDK's poller).
     */
    @ParameterizedTest
    @MethodSource("otherShapes")
    void otherShapesRaceToo(Jdk jdk, String api) throws Exception {
        long synRx = BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX");
        try (ChildJvm c = client(jdk, api, PORT, 3, "", bed.good, bed.blackholed)) {
            c.expect("ROUNDS DONE");
            List<Dial> dials = dials(c);
            assertTrue(dials.size() == 6 && dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            assertTrue(to(dials, bed.blackholed).get(0).millis <= 1000, c.output());
            assertEquals(3, BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX") - synRx, c.output());
            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(2, status.counter("races_won_tcp"), status.cli.output);
            assertEquals(1, status.counter("connections_tcp_blackhole"), status.cli.output);
            c.finish();
        }
    }

    static Stream<Arguments> otherShapes() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            for (String api : List.of("socket-timeout", "async", "url")) {
                out.add(Arguments.of(jdk, api));
            }
        }
        out.add(Arguments.of(Jdk.JDK17, "legacy"));
        out.add(Arguments.of(Jdk.JDK25, "vthread"));
        return out.stream();
    }

    /**
     * After the TTL the destination is probed with MPTCP again (raced again: one lost race suffices then), and
     * remembered twice as long.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void probesAgainAfterTheTtl(Jdk jdk) throws Exception {
        try (ChildJvm c = client(jdk, "socket", PORT, 2, "blackhole_ttl=1", bed.blackholed)) {
            c.expect("ROUNDS DONE"); // two races: remembered for 1 s
            long end = System.nanoTime() + 1_300_000_000L; // the TTL is over
            while (System.nanoTime() - end < 0) {
                Thread.sleep(50);
            }
            c.send("dial " + bed.blackholed);
            c.send("dial " + bed.blackholed);
            c.await(l -> l.startsWith("DIAL ") && dials(c).size() == 4, 10_000);
            List<Dial> dials = dials(c);
            assertTrue(dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            assertTrue(dials.get(2).millis >= 200, "the probe races again: " + dials + c.output());
            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(3, status.counter("races_won_tcp"), status.cli.output);
            assertEquals(1, status.counter("connections_tcp_blackhole"), status.cli.output);
            assertTrue(String.valueOf(status.items.get("destination_1")).contains("ttl=2.0 s  backoff=2"), status.cli.output);
            c.finish();
        }
    }

    /**
     * A destination that answers MPTCP slowly (200 ms more round-trip time) is not raced into a second connection:
     * every connection is MPTCP and reaches the server application once.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void slowDestinationStaysMptcpWithoutDuplicates(Jdk jdk) throws Exception {
        long synRx = BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX");
        long accepted = accepted(bed.slow);
        try (ChildJvm c = client(jdk, "socket", PORT, 4, "", bed.slow)) {
            c.expect("ROUNDS DONE");
            List<Dial> dials = dials(c);
            assertTrue(dials.size() == 4 && dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            assertTrue(dials.stream().allMatch(d -> d.millis >= BlackholeBed.SLOW_MILLIS), "the delay line: " + dials);
            assertEquals(4, BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX") - synRx, c.output());
            assertEquals(4, accepted(bed.slow) - accepted, server.output());
            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(0, status.counter("races_won_tcp"), status.cli.output);
            assertEquals(4, status.counter("connections_mptcp"), status.cli.output);
            assertTrue(String.valueOf(status.items.get("destination_1")).startsWith(bed.slow + ":" + PORT + "  slow: "),
                    status.cli.output);
            c.finish();
        }
    }

    /** A server that answers without MPTCP costs no race: the kernel falls back at once, as it always did. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void plainTcpServerCostsNoRace(Jdk jdk) throws Exception {
        try (ChildJvm c = client(jdk, "channel", PLAIN_PORT, 5, "", bed.good)) {
            c.expect("ROUNDS DONE");
            List<Dial> dials = dials(c);
            assertTrue(dials.size() == 5 && dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(0, status.counter("races_started"), status.cli.output);
            assertEquals(5, status.counter("connections_tcp"), status.cli.output);
            assertEquals(null, status.items.get("destination_1"), status.cli.output);
            c.finish();
        }
    }

    /**
     * Neither MPTCP nor plain TCP answers for a while (every SYN dropped), then plain TCP does: the MPTCP attempt is
     * abandoned before the kernel's own fallback (whose plain SYN, answered, would turn MPTCP off for the namespace),
     * the connection is plain TCP, and the next connection to the good address is MPTCP.
     */
    @Test
    void mptcpIsAbandonedBeforeTheKernelFallsBack() throws Exception {
        long synRx = BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX");
        long blackhole = BlackholeBed.counter(bed.client, "MPTcpExtBlackhole");
        long drop = BlackholeBed.counter(bed.client, "MPTcpExtMPCapableSYNTXDrop");
        List<String> all = List.of("INPUT", "-d", bed.blackholed, "-p", "tcp", "--syn", "-j", "DROP");
        try (ChildJvm c = client(Jdk.JDK17, "socket", PORT, 0, "")) {
            c.expect("ROUNDS DONE");
            insert(all);
            try {
                c.send("dial " + bed.blackholed);
                long end = System.nanoTime() + 2_600_000_000L; // past the abandon (2nd retransmission, ~2 s)
                while (System.nanoTime() - end < 0) {
                    Thread.sleep(50);
                }
            } finally {
                delete(all); // its plain SYNs pass again (its MPTCP ones still do not)
            }
            c.await(l -> l.startsWith("DIAL " + bed.blackholed), 15_000);
            c.send("dial " + bed.good);
            c.await(l -> l.startsWith("DIAL " + bed.good), 15_000);
            assertTrue(dials(c).stream().allMatch(d -> d.result.equals("hello")), c.output());
            assertEquals(0, BlackholeBed.counter(bed.client, "MPTcpExtBlackhole") - blackhole, c.output());
            assertEquals(0, BlackholeBed.counter(bed.client, "MPTcpExtMPCapableSYNTXDrop") - drop, c.output());
            assertEquals(1, BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX") - synRx, c.output());
            StatusIT.Status status = StatusIT.status(Jdk.JDK17, c.pid());
            assertEquals(1, status.counter("races_mptcp_abandoned"), status.cli.output);
            assertTrue(String.valueOf(status.items.get("destination_1")).startsWith(bed.blackholed + ":" + PORT
                    + "  suspect: "), status.cli.output);
            c.finish();
        }
    }

    /**
     * While a race is under way (an address nobody answers: neither MPTCP nor plain TCP), an interrupt or a close ends
     * the connect with the exception the JDK throws without the agent, the application's own connect timeout keeps its
     * meaning, and the race's own sockets go with it.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void interruptCloseAndTimeoutDuringARaceBehaveAsWithoutTheAgent(Jdk jdk) throws Exception {
        String nobody = bed.silent; // its SYNs go nowhere, and no "no route to host" ends a connect early
        try (ChildJvm c = client(jdk, "socket", PORT, 0, "log=debug")) {
            c.expect("ROUNDS DONE");
            c.send("sockets");
            int before = Integer.parseInt(c.expect("SOCKETS ").split(" ")[1]);
            for (String[] how : new String[][] {{"interrupt", "java.nio.channels.ClosedByInterruptException"},
                    {"close", "java.nio.channels.AsynchronousCloseException"}, {"socket-close", "java.net.SocketException"}}) {
                c.send("abort " + how[0] + " " + nobody);
                assertEquals("ABORTED " + how[1], c.expect("ABORTED "), how[0] + c.output());
                assertEquals("SOCKETS " + before, c.expect("SOCKETS "), how[0] + ": the race's sockets are gone" + c.output());
            }
            c.send("timeout 700 " + nobody);
            String[] timeout = c.expect("TIMEOUT ").split(" ");
            assertEquals("java.net.SocketTimeoutException", timeout[2], c.output());
            assertTrue(Long.parseLong(timeout[1]) >= 650 && Long.parseLong(timeout[1]) < 2000, "after 700 ms: " + c.output());
            StatusIT.Status status = StatusIT.status(jdk, c.pid());
            assertEquals(4, status.counter("races_started"), "each was under way when it ended: " + status.cli.output);
            assertEquals(0, status.counter("races_won_tcp"), status.cli.output);
            c.finish();
        }
    }

    /**
     * The same bed without the race ({@code race=off}): the kernel alone takes 3 s for the first connect and then turns
     * MPTCP off for the whole namespace, so the good address gets plain TCP: what the race prevents.
     */
    @Test
    void withoutTheRaceTheKernelTurnsMptcpOffForTheNamespace() throws Exception {
        long synRx = BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX");
        long blackhole = BlackholeBed.counter(bed.client, "MPTcpExtBlackhole");
        try (ChildJvm c = client(Jdk.JDK17, "socket", PORT, 1, "race=off", bed.blackholed, bed.good)) {
            c.expect("ROUNDS DONE");
            List<Dial> dials = dials(c);
            assertTrue(dials.stream().allMatch(d -> d.result.equals("hello")), c.output());
            assertTrue(dials.get(0).millis >= 2500, "the kernel's fallback: " + dials);
            assertEquals(1, BlackholeBed.counter(bed.client, "MPTcpExtBlackhole") - blackhole, c.output());
            assertEquals(0, BlackholeBed.counter(bed.server, "MPTcpExtMPCapableSYNRX") - synRx, "MPTCP off" + c.output());
            c.finish();
            // doctor, in that namespace, says so and names the command that turns MPTCP back on
            Proc doctor = Proc.run(bed.client.wrap(List.of(Jdk.JDK17.java(), "-jar", ChildJvm.AGENT.toString(), "doctor")),
                    java.util.Map.of(), 60);
            assertTrue(doctor.output.contains("  warn  blackhole      net.mptcp.syn_retrans_before_tcp_fallback = 2,"
                    + " blackhole_timeout = 3600: ") && doctor.output.contains("The kernel did turn active MPTCP off here")
                    && doctor.output.contains("fix: sysctl -w net.mptcp.blackhole_timeout=3600   # writing it (any value)"
                    + " turns active MPTCP back on at once"), doctor.toString());
        } finally {
            bed.resetKernelBlackhole();
        }
    }

    private static void insert(List<String> rule) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-I"));
        cmd.addAll(rule);
        bed.server.exec(cmd.toArray(new String[0]));
    }

    private static void delete(List<String> rule) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-D"));
        cmd.addAll(rule);
        bed.server.exec(cmd.toArray(new String[0]));
    }
}
