package mptcp.it.listeners;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code attach} converts a running server's existing listeners to MPTCP under load (issue 11). The server JVM runs
 * without the agent in one namespace; in another, over a veth, a plain TCP client JVM and an MPTCP client JVM (the
 * agent, mode=client) keep opening fresh connections while {@code attach} runs. Checked: no connection failed, the
 * listener is MPTCP afterwards and the old TCP listener is gone (ss in the server namespace), a connection accepted
 * before the attach still works, a new MPTCP client is accepted as MPTCP (ss -M), status counts the conversion.
 */
class ListenersIT {
    static final String SERVER = "10.231.0.1";
    static final String CLIENT = "10.231.0.2";
    static final String SPARE = "10.231.0.3";
    static final String SERVER6 = "fd00:231::1";
    static final String CLIENT6 = "fd00:231::2";

    static Stream<Arguments> acceptModels() {
        return Stream.of(
                Arguments.of(Jdk.JDK17, "socket", 0),
                Arguments.of(Jdk.JDK17, "selector", 0),
                Arguments.of(Jdk.JDK17, "httpserver", 0),
                Arguments.of(Jdk.JDK17, "socket", 1),
                Arguments.of(Jdk.JDK17, "timed", 0),
                Arguments.of(Jdk.JDK17, "async", 0),
                Arguments.of(Jdk.JDK17, "jetty", 0),
                Arguments.of(Jdk.JDK17, "netty-epoll", 0),
                Arguments.of(Jdk.JDK25, "socket", 0),
                Arguments.of(Jdk.JDK25, "selector", 1),
                Arguments.of(Jdk.JDK25, "vthread", 0),
                Arguments.of(Jdk.JDK25, "async", 0),
                Arguments.of(Jdk.JDK25, "jetty", 1),
                Arguments.of(Jdk.JDK25, "tomcat", 0),
                Arguments.of(Jdk.JDK25, "netty-epoll", 1));
    }

    @ParameterizedTest(name = "{0} {1} tcp_migrate_req={2}")
    @MethodSource("acceptModels")
    void attachConvertsListenerUnderLoad(Jdk jdk, String model, int migrate) throws Exception {
        try (Bed bed = new Bed(migrate);
             ChildJvm server = bed.server(jdk, model, SERVER, "8080")) {
            server.expect("READY");
            try (ChildJvm before = bed.client(jdk, false, "hold", SERVER, "8080");
                 ChildJvm tcpLoad = bed.client(jdk, false, "load", SERVER, "8080", "2", "1", "30");
                 ChildJvm mptcpLoad = bed.client(jdk, true, "load", SERVER, "8080", "2", "1", "30")) {
                assertEquals("HELD ok", before.expect("HELD"), before.output());
                tcpLoad.expect("RUNNING");
                mptcpLoad.expect("RUNNING");
                Thread.sleep(300);
                AgentCli attach = AgentCli.run(jdk, "attach", String.valueOf(server.pid()));
                assertEquals(0, attach.exit, attach.toString());
                assertTrue(attach.output.contains("listener " + SERVER + ":8080 (fd ")
                        && attach.output.contains("): converted to MPTCP in "), attach.toString());
                Thread.sleep(300);
                tcpLoad.send("stop");
                mptcpLoad.send("stop");
                for (ChildJvm load : List.of(tcpLoad, mptcpLoad)) {
                    String result = load.expect("RESULT");
                    System.out.println("ListenersIT " + jdk + " " + model + " tcp_migrate_req=" + migrate + " "
                            + (load == tcpLoad ? "tcp  " : "mptcp") + " client: " + result + " | "
                            + attach.output.lines().filter(l -> l.startsWith("listener ")).findFirst().orElse(""));
                    assertTrue(result.contains(" failed=0 "), result + "\n" + attach + "\n" + server.output());
                    assertTrue(attempted(result) >= 50, "too little load to prove anything: " + result);
                }
                before.send("again");
                assertEquals("AGAIN ok", before.expect("AGAIN"), "a connection accepted before the attach");

                String listening = bed.server.exec("ss", "-H", "-Mltn", "sport", "= :8080");
                assertEquals(1, count(listening, "mptcp"), "one MPTCP listener:\n" + listening);
                assertEquals(1, count(listening, "tcp"), "no TCP listener besides the MPTCP listener's own subflow:\n"
                        + listening);

                assertTrue(bed.probe(jdk, SERVER, "8080").startsWith("BIND refused"), "nothing left joinable");

                try (ChildJvm after = bed.client(jdk, true, "hold", SERVER, "8080")) {
                    assertEquals("HELD ok", after.expect("HELD"), after.output());
                    List<Ss.Entry> s = Ss.sockets(server.pid(), bed.server.name);
                    assertTrue(s.stream().anyMatch(e -> e.protocol.equals("mptcp") && e.state.equals("ESTAB")
                            && e.localPort() == 8080 && e.peer.contains(CLIENT)), "MPTCP client accepted as MPTCP: " + s);
                    after.send("bye");
                }
                AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
                assertTrue(status.output.contains("listeners_converted: 1"), status.toString());
                before.send("bye");
            }
        }
    }

    /**
     * Failures leave the old listener serving TCP and attach says why: a listener whose address is gone (the new bind
     * is refused: EADDRNOTAVAIL) and one whose application set SO_REUSEPORT itself; the third listener is converted.
     */
    @Test
    void failedConversionKeepsTheTcpListenerServing() throws Exception {
        Jdk jdk = Jdk.JDK17;
        try (Bed bed = new Bed(0)) {
            bed.server.exec("ip", "addr", "add", SPARE + "/24", "dev", "vs");
            try (ChildJvm server = bed.server(jdk, "selector", SERVER, "8080", SPARE, "8081", SERVER, "8082r")) {
                server.expect("READY");
                bed.server.exec("ip", "addr", "del", SPARE + "/24", "dev", "vs");
                AgentCli attach = AgentCli.run(jdk, "attach", String.valueOf(server.pid()));
                assertEquals(0, attach.exit, attach.toString());
                assertTrue(attach.output.matches("(?s).*listener " + SERVER.replace(".", "\\.")
                        + ":8080 \\(fd \\d+\\): converted to MPTCP.*"), attach.toString());
                assertTrue(attach.output.matches("(?s).*listener " + SPARE.replace(".", "\\.") + ":8081 \\(fd \\d+\\):"
                        + " kept TCP: binding an MPTCP socket to " + SPARE.replace(".", "\\.") + ":8081 failed: EADDRNOTAVAIL.*"),
                        attach.toString());
                assertTrue(attach.output.contains(":8082 (fd ") && attach.output.contains(
                        "kept TCP: the application set SO_REUSEPORT on it"), attach.toString());

                bed.server.exec("ip", "addr", "add", SPARE + "/24", "dev", "vs");
                for (String[] to : new String[][] {{SPARE, "8081"}, {SERVER, "8082"}, {SERVER, "8080"}}) {
                    try (ChildJvm c = bed.client(jdk, false, "hold", to[0], to[1])) {
                        assertEquals("HELD ok", c.expect("HELD"), to[0] + ":" + to[1] + " " + c.output());
                        c.send("bye");
                    }
                }
                String listening = bed.server.exec("ss", "-H", "-Mltn");
                assertEquals(0, count(grep(listening, ":8081"), "mptcp"), listening);
                assertEquals(1, count(grep(listening, ":8081"), "tcp"), listening);
                assertEquals(0, count(grep(listening, ":8082"), "mptcp"), listening);
                assertEquals(1, count(grep(listening, ":8080"), "mptcp"), listening);
                AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
                assertTrue(status.output.contains("listeners_converted: 1")
                        && status.output.contains("listeners_kept_tcp: 2"), status.toString());
            }
        }
    }

    /**
     * Every address family and kind of bound address: IPv4 through a dual-stack socket (the JDK's default), a specific
     * IPv6 address, the dual-stack wildcard (reached over IPv4 and IPv6), and a pure AF_INET wildcard
     * (-Djava.net.preferIPv4Stack=true). Each becomes an MPTCP listener that accepts MPTCP clients as MPTCP, and none
     * is left joinable except the dual-stack wildcard, which attach names.
     */
    @Test
    void everyAddressFamily() throws Exception {
        try (Bed bed = new Bed(0)) {
            bed.server.exec("ip", "addr", "add", SERVER6 + "/64", "dev", "vs", "nodad");
            bed.client.exec("ip", "addr", "add", CLIENT6 + "/64", "dev", "vc", "nodad");
            try (ChildJvm dual = bed.server(Jdk.JDK25, "socket", SERVER, "8080", "::", "8083", SERVER6, "8084");
                 ChildJvm v4 = bed.server(Jdk.JDK17, List.of("-Djava.net.preferIPv4Stack=true"), "selector", "0.0.0.0", "8085")) {
                dual.expect("READY");
                v4.expect("READY");
                AgentCli a = AgentCli.run(Jdk.JDK25, "attach", String.valueOf(dual.pid()));
                AgentCli b = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(v4.pid()));
                assertEquals(3, a.output.split("converted to MPTCP", -1).length - 1, a.toString());
                assertTrue(a.output.contains("[::]:8083 (fd ") && a.output.contains("can still bind [::]:8083"), a.toString());
                assertTrue(b.output.contains("listener 0.0.0.0:8085 (fd ") && b.output.contains("converted to MPTCP"), b.toString());
                String listening = bed.server.exec("ss", "-H", "-Mltn");
                for (String port : List.of("8080", "8083", "8084", "8085")) {
                    assertEquals(1, count(grep(listening, ":" + port + " "), "mptcp"), port + "\n" + listening);
                    assertEquals(1, count(grep(listening, ":" + port + " "), "tcp"), port + "\n" + listening);
                }
                String[][] targets = {{SERVER, "8080"}, {SERVER, "8083"}, {SERVER6, "8083"}, {SERVER6, "8084"}, {SERVER, "8085"}};
                for (String[] to : targets) {
                    try (ChildJvm c = bed.client(Jdk.JDK17, true, "hold", to[0], to[1])) {
                        assertEquals("HELD ok", c.expect("HELD"), to[0] + " " + to[1] + c.output());
                        long pid = to[1].equals("8085") ? v4.pid() : dual.pid();
                        List<Ss.Entry> s = Ss.sockets(pid, bed.server.name);
                        assertTrue(s.stream().anyMatch(e -> e.protocol.equals("mptcp") && e.state.equals("ESTAB")
                                && e.localPort() == Integer.parseInt(to[1])), to[0] + " " + to[1] + ": " + s);
                        c.send("bye");
                    }
                }
                assertTrue(bed.probe(Jdk.JDK17, SERVER, "8080").startsWith("BIND refused"));
                assertTrue(bed.probe(Jdk.JDK17, SERVER6, "8084").startsWith("BIND refused"));
                assertTrue(bed.probe(Jdk.JDK17, true, "0.0.0.0", "8085").startsWith("BIND refused"));
            }
        }
    }

    /**
     * A handshake still in flight on the old listener when the hand-over starts is not lost: the client's handshake ACK
     * is dropped (iptables in the client namespace) so that its request sits in SYN_RECV on the TCP listener; the rule
     * is lifted once the MPTCP listener is up, the server's SYN-ACK retransmission completes the handshake on the old
     * listener, the application accepts it there before the swap, and the client's request is answered.
     */
    @Test
    void handshakeInFlightOnTheOldListenerCompletes() throws Exception {
        Jdk jdk = Jdk.JDK17;
        try (Bed bed = new Bed(0); ChildJvm server = bed.server(jdk, "socket", SERVER, "8080")) {
            server.expect("READY");
            String[] dropAck = {"OUTPUT", "-p", "tcp", "--dport", "8080", "--tcp-flags", "SYN,ACK,FIN,RST,PSH", "ACK", "-j", "DROP"};
            bed.client.exec(concat("iptables", "-A", dropAck));
            try (ChildJvm late = bed.client(jdk, false, "late", SERVER, "8080")) {
                late.expect("CONNECTED");
                assertTrue(bed.server.exec("ss", "-Htn", "state", "syn-recv").contains(":8080"), "request in SYN_RECV");
                java.util.concurrent.CompletableFuture<AgentCli> attach = AgentCli.async(jdk, "attach", String.valueOf(server.pid()));
                bed.awaitMptcpListener();
                bed.client.exec(concat("iptables", "-D", dropAck));
                AgentCli done = attach.get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertTrue(done.output.contains("converted to MPTCP") && !done.output.contains("reset"), done.toString());
                late.send("go");
                assertEquals("LATE ok", late.expect("LATE"), done + "\n" + late.output());
            }
        }
    }

    private static String[] concat(String a, String b, String[] rest) {
        List<String> l = new ArrayList<>(List.of(a, b));
        l.addAll(List.of(rest));
        return l.toArray(new String[0]);
    }

    static long attempted(String result) {
        for (String f : result.split(" ")) {
            if (f.startsWith("attempted=")) {
                return Long.parseLong(f.substring(10));
            }
        }
        return -1;
    }

    /**
     * The listeners of {@code netid} ("mptcp", "tcp") in an {@code ss -Mltn} output: its LISTEN lines (ss -l also
     * lists MPTCP sockets of connections being closed, as UNCONN).
     */
    static long count(String ssOutput, String netid) {
        return ssOutput.lines().filter(l -> l.startsWith(netid + " ") && l.contains(" LISTEN ")).count();
    }

    static String grep(String text, String part) {
        StringBuilder b = new StringBuilder();
        text.lines().filter(l -> l.contains(part)).forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }

    /** Server and client namespaces joined by a veth (vs 10.231.0.1 / vc 10.231.0.2); removed on close. */
    static final class Bed implements AutoCloseable {
        final Netns server;
        final Netns client;
        private final List<ChildJvm> children = new ArrayList<>();

        Bed(int migrate) throws IOException, InterruptedException {
            server = new Netns();
            Netns c = null;
            try {
                c = new Netns();
                server.exec("ip", "link", "add", "vs", "type", "veth", "peer", "name", "vc", "netns", c.name);
                server.exec("ip", "addr", "add", SERVER + "/24", "dev", "vs");
                server.exec("ip", "link", "set", "vs", "up");
                c.exec("ip", "addr", "add", CLIENT + "/24", "dev", "vc");
                c.exec("ip", "link", "set", "vc", "up");
                server.exec("sh", "-c", "echo " + migrate + " > /proc/sys/net/ipv4/tcp_migrate_req"); // per namespace
            } catch (IOException | InterruptedException | RuntimeException e) {
                server.close();
                if (c != null) {
                    c.close();
                }
                throw e;
            }
            client = c;
        }

        ChildJvm server(Jdk jdk, String model, String... addressesAndPorts) throws IOException {
            return server(jdk, List.of(), model, addressesAndPorts);
        }

        ChildJvm server(Jdk jdk, List<String> jvmArgs, String model, String... addressesAndPorts) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(jdk.java()));
            cmd.addAll(jvmArgs);
            cmd.addAll(List.of("-cp", ChildJvm.CLASSPATH, "mptcp.it.servers.ListenerApp", model));
            cmd.addAll(List.of(addressesAndPorts));
            return track(ChildJvm.command(server.wrap(cmd), Map.of()));
        }

        /**
         * Waits (up to 30 s) until the server namespace has an MPTCP listener: an attach under way has steered new
         * connections to it and now waits for the application to drain the old one.
         */
        void awaitMptcpListener() throws IOException, InterruptedException {
            long end = System.nanoTime() + 30_000_000_000L;
            while (!server.exec("ss", "-HMltn").contains("mptcp") && System.nanoTime() < end) {
                Thread.sleep(10);
            }
        }

        /** "BIND ok" or "BIND refused ...": may another socket (same uid) bind this address with SO_REUSEPORT? */
        String probe(Jdk jdk, String address, String port) throws IOException, InterruptedException {
            return probe(jdk, false, address, port);
        }

        /** {@code ipv4}: an AF_INET socket (-Djava.net.preferIPv4Stack=true), else the JDK's dual-stack AF_INET6. */
        String probe(Jdk jdk, boolean ipv4, String address, String port) throws IOException, InterruptedException {
            return server.exec(jdk.java(), "-Djava.net.preferIPv4Stack=" + ipv4, "-cp", ChildJvm.CLASSPATH,
                    "mptcp.it.servers.ListenerApp", "probe", address, port).trim();
        }

        /** A LoadClient JVM in the client namespace; {@code mptcp}: with the agent (mode=client). */
        ChildJvm client(Jdk jdk, boolean mptcp, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(jdk.java()));
            if (mptcp) {
                cmd.add(ChildJvm.agentArg("mode=client"));
            }
            cmd.addAll(List.of("-cp", ChildJvm.CLASSPATH, "mptcp.it.servers.LoadClient"));
            cmd.addAll(List.of(args));
            return track(ChildJvm.command(client.wrap(cmd), Map.of()));
        }

        private ChildJvm track(ChildJvm c) {
            children.add(c);
            return c;
        }

        @Override
        public void close() {
            children.forEach(ChildJvm::close);
            client.close();
            server.close();
        }
    }
}
