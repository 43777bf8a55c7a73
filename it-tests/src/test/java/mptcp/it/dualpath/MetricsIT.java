package mptcp.it.dualpath;

import static mptcp.agent.demo.DualPathTopology.SERVER_LOWER;
import static mptcp.agent.demo.DualPathTopology.SERVER_UPPER;
import static mptcp.it.dualpath.Bed.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.AgentCli;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Prerequisites;
import mptcp.it.Proc;

/**
 * Issue 22: what an operator's Prometheus sees. On the dual-path topology, each path limited to {@link #RATE} by a
 * token bucket on its router: an HTTP server JVM ({@link PathsServer}) under the agent and the real jmx_exporter java
 * agent (1.0.1, with {@code deploy/jmx-exporter.yaml}, its HTTP port on the server namespace's loopback), and
 * {@code mptcpize run curl} downloading {@link #SIZE} bytes from the client namespace, twice:
 * <ol>
 *   <li>both paths up: the scraped {@code mptcp_agent_path_sent_bytes_total} summed over the interfaces is 0.98-1.10
 *       times the bytes served, each interface carried more than 1 MiB, no subflow failure; while the connection is
 *       still open after the transfer, each interface's figures equal what {@code ss -tin} shows for the subflow
 *       holding its address, and {@code mptcp_agent_subflows} is 1 on each;</li>
 *   <li>the upper path cut ({@code iptables -A FORWARD -j DROP} on its router) when a quarter was served: the
 *       download completes byte-exact and {@code mptcp_agent_subflow_failures_total} is at least 1.</li>
 * </ol>
 */
class MetricsIT {
    private static final long SIZE = 16L << 20;
    /** Per path: 16 MiB take about 2 s over both, and about 4 s more over one after the cut. */
    private static final String RATE = "32mbit";
    private static final int EXPORTER_PORT = 9404;
    private static final String UPPER = "eth1";
    private static final String LOWER = "eth2";

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(strings = {"17", "25"})
    void prometheusSeesBytesPerPathAndPathFailures(String jdkVersion) throws Exception {
        Jdk jdk = jdkVersion.equals("17") ? Jdk.JDK17 : Jdk.JDK25;
        Path exporter = Paths.get(System.getProperty("jmx.exporter.jar", "target/jmx-exporter/none.jar"));
        Path config = Paths.get(System.getProperty("jmx.exporter.config", "../deploy/jmx-exporter.yaml"));
        List<String> missing = Prerequisites.missing(List.of("curl"));
        if (!Files.isRegularFile(exporter)) {
            missing.add(exporter + " (the build copies it: mvn generate-test-resources)");
        }
        Prerequisites.require("metrics test", missing);
        Path download = Files.createTempFile("mptcp-metrics", ".bin");
        try (Bed bed = Bed.create(jdk)) {
            DualPathTopology net = bed.net;
            net.rateLimit(1, RATE);
            net.rateLimit(2, RATE);
            ChildJvm server = bed.java(net.server, jdk, List.of(ChildJvm.agentArg("log=debug"),
                    "-javaagent:" + exporter + "=127.0.0.1:" + EXPORTER_PORT + ":" + config.toAbsolutePath()),
                    PathsServer.class, "0.0.0.0", "" + PORT);
            server.await(l -> l.startsWith("listening"), 30_000);
            // the agent registers its MBean once the exporter made the platform MBean server (within ~2 s)
            Map<String, Double> m = awaitMetric(net, "mptcp_agent_subflow_failures_total", v -> true, 20_000);
            assertEquals(0, sum(m, "mptcp_agent_path_sent_bytes_total"), "nothing sent yet: " + m);

            // 1. both paths up; the connection held open after the download
            ChildJvm curl = bed.start("curl", net.client, List.of("mptcpize", "run", "curl", "-sS", "--max-time", "60",
                    "-o", download.toString(), url("/data/" + SIZE), "-o", "/dev/null", url("/hold")));
            server.await(l -> l.equals("holding"), 60_000);
            // all data arrived; retransmissions (TCP's, MPTCP's reinjections) may still go out: wait until ss is still
            Map<String, long[]> ss = stableSubflows(net);
            m = scrape(net);
            assertEquals(show(ss), show(subflowsBySs(net)), "the subflows moved during the scrape");
            // status shows the same per-interface table, --json carries it
            AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
            AgentCli json = AgentCli.run(jdk, "status", String.valueOf(server.pid()), "--json");
            System.out.println(status.output + "\n" + raw(net));
            System.out.println("ss while held: " + show(ss) + "\nscraped: " + m);
            double sent = sum(m, "mptcp_agent_path_sent_bytes_total");
            assertTrue(sent >= 0.98 * SIZE && sent <= 1.10 * SIZE, "sent " + sent + " for " + SIZE + " served: " + m);
            for (String iface : List.of(UPPER, LOWER)) {
                String local = iface.equals(UPPER) ? SERVER_UPPER : SERVER_LOWER;
                double s = m.getOrDefault("mptcp_agent_path_sent_bytes_total{interface=\"" + iface + "\"}", -1.0);
                assertTrue(s > 1 << 20, iface + " carried " + s + ": " + m);
                long[] kernel = ss.get(local);
                assertTrue(kernel != null, "ss shows no subflow from " + local + ": " + show(ss));
                assertEquals(kernel[0], (long) s, iface + ": sent bytes, agent vs ss -tin (" + show(ss) + ")");
                assertEquals(kernel[1], m.get("mptcp_agent_path_received_bytes_total{interface=\"" + iface + "\"}"),
                        0.5, iface + ": received bytes, agent vs ss -tin (" + show(ss) + ")");
                assertEquals(1.0, m.get("mptcp_agent_subflows{interface=\"" + iface + "\"}"), iface + ": " + m);
                String row = status.output.lines().filter(l -> l.startsWith(iface + " ")).findFirst().orElse("");
                // INTERFACE SENT_BYTES RECEIVED_BYTES RETRANSMITTED_BYTES SUBFLOWS
                assertTrue(row.matches(iface + " +" + kernel[0] + " +" + kernel[1] + " +\\d+ +1"), "status row: " + row
                        + " (" + show(ss) + ")\n" + status);
                assertTrue(json.output.contains("{\"interface\": \"" + iface + "\", \"sent_bytes\": " + kernel[0] + ", "),
                        json.toString());
            }
            assertTrue(status.output.contains("subflows_opened: 2\n") && status.output.contains("subflow_failures: 0\n"),
                    status.toString());
            assertEquals(2.0, m.get("mptcp_agent_subflows_opened_total"), m.toString());
            assertEquals(0.0, m.get("mptcp_agent_subflow_failures_total"), m.toString());
            assertEquals(1.0, m.get("mptcp_agent_connections_total{direction=\"inbound\",protocol=\"mptcp\"}"),
                    m.toString());
            server.send("release");
            assertEquals(0, curl.exit(30_000), "curl" + curl);
            Bed.assertPattern(Files.readAllBytes(download), SIZE, "download with both paths");
            // the JDK's close: the connection's last look, both subflows, read before the fd went away
            String last = awaitClosing(server);
            assertTrue(last.matches(".*: subflow 1 eth1 10\\.91\\.1\\.2 sent=\\d+ received=\\d+; subflow 2 eth2 "
                    + "10\\.91\\.2\\.2 sent=\\d+ received=\\d+"), last);
            m = awaitMetric(net, "mptcp_agent_subflows{interface=\"" + UPPER + "\"}", v -> v == 0, 10_000);
            assertEquals(0.0, m.get("mptcp_agent_subflows{interface=\"" + LOWER + "\"}"), "closed: " + m);
            assertEquals(0.0, m.get("mptcp_agent_subflow_failures_total"), "a healthy run: " + m);
            double before = sum(m, "mptcp_agent_path_sent_bytes_total");
            assertTrue(before >= sent, "counters only grow: " + before + " < " + sent);

            // 2. the upper path cut when a quarter was served
            curl = bed.start("curl", net.client, List.of("mptcpize", "run", "curl", "-sS", "--max-time", "90",
                    "-o", download.toString(), url("/data/" + SIZE)));
            int from = server.stdoutLines().size();
            awaitServed(server, from, SIZE / 4);
            net.cut(1);
            assertEquals(0, curl.exit(90_000), "curl" + curl);
            Bed.assertPattern(Files.readAllBytes(download), SIZE, "download with the upper path cut at a quarter");
            m = awaitMetric(net, "mptcp_agent_subflow_failures_total", v -> v >= 1, 15_000);
            System.out.println("after the cut: " + m);
            double after = sum(m, "mptcp_agent_path_sent_bytes_total") - before;
            assertTrue(after >= 0.98 * SIZE, "sent " + after + " for " + SIZE + " served: " + m);
            assertEquals(2.0, m.get("mptcp_agent_connections_total{direction=\"inbound\",protocol=\"mptcp\"}"),
                    m.toString());
        } finally {
            Files.deleteIfExists(download);
        }
    }

    /** Waits for the agent's DEBUG line of a last look at a closing connection (10 s at most). */
    private static String awaitClosing(ChildJvm server) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() - end < 0) {
            for (String l : server.agentLines()) {
                if (l.contains(": closing, its subflows' last figures:")) {
                    return l;
                }
            }
            Thread.sleep(50);
        }
        fail("no last look at the closing connection" + server);
        return null;
    }

    /** Waits for a "served N" line with N at least {@code bytes} among the server's lines from index {@code from}. */
    private static void awaitServed(ChildJvm server, int from, long bytes) throws InterruptedException {
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() - end < 0) {
            List<String> lines = server.stdoutLines();
            for (String l : lines.subList(Math.min(from, lines.size()), lines.size())) {
                if (l.startsWith("served ") && Long.parseLong(l.substring(7)) >= bytes) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        fail("the server never served " + bytes + " bytes" + server);
    }

    private static String url(String path) {
        return "http://" + SERVER_UPPER + ":" + PORT + path;
    }

    /** The exporter's answer, over the server namespace's loopback. */
    private static String raw(DualPathTopology net) throws Exception {
        Proc p = Proc.run(DualPathTopology.in(net.server, List.of("curl", "-sS", "--max-time", "10",
                "http://127.0.0.1:" + EXPORTER_PORT + "/metrics")), Map.of(), 20);
        assertEquals(0, p.exit, "scrape: " + p.output);
        return p.output;
    }

    /** The exporter's metrics of the agent: "name{labels}" → value. */
    static Map<String, Double> scrape(DualPathTopology net) throws Exception {
        Map<String, Double> m = new TreeMap<>();
        for (String line : raw(net).split("\n")) {
            if (line.startsWith("mptcp_agent_")) {
                int space = line.lastIndexOf(' ');
                m.put(line.substring(0, space).replace(",}", "}"), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return m;
    }

    private static Map<String, Double> awaitMetric(DualPathTopology net, String name,
            java.util.function.DoublePredicate ok, long timeoutMs) throws Exception {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        Map<String, Double> m;
        do {
            m = scrape(net);
            Double v = m.get(name);
            if (v != null && ok.test(v)) {
                return m;
            }
            Thread.sleep(200);
        } while (System.nanoTime() - end < 0);
        fail("no " + name + " as expected within " + timeoutMs + " ms; last scrape: " + m);
        return m;
    }

    private static double sum(Map<String, Double> m, String name) {
        return m.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{")).mapToDouble(Map.Entry::getValue)
                .sum();
    }

    /** The server's subflows on PORT as ss -tin shows them: local address → {bytes_sent - bytes_retrans, bytes_received}. */
    private static Map<String, long[]> subflowsBySs(DualPathTopology net) throws Exception {
        Map<String, long[]> out = new TreeMap<>();
        for (DualPathTopology.Socket s : net.tcpSockets(net.server, PORT)) {
            if (s.mptcpSubflow && s.state.equals("ESTAB")) {
                // sent the first time: bytes_sent includes TCP's retransmissions, counted apart by the agent
                out.put(s.localAddress(), new long[] {field(s.line, "bytes_sent") - field(s.line, "bytes_retrans"),
                        field(s.line, "bytes_received")});
            }
        }
        return out;
    }

    /** {@link #subflowsBySs} once two readings 500 ms apart agree (10 s at most). */
    private static Map<String, long[]> stableSubflows(DualPathTopology net) throws Exception {
        Map<String, long[]> last = subflowsBySs(net);
        for (int i = 0; i < 20; i++) {
            Thread.sleep(500);
            Map<String, long[]> now = subflowsBySs(net);
            if (show(now).equals(show(last))) {
                return now;
            }
            last = now;
        }
        fail("the subflows kept sending for 10 s after the transfer: " + show(last));
        return last;
    }

    private static long field(String line, String key) {
        java.util.regex.Matcher x = java.util.regex.Pattern.compile("\\b" + key + ":(\\d+)").matcher(line);
        return x.find() ? Long.parseLong(x.group(1)) : 0;
    }

    private static String show(Map<String, long[]> ss) {
        StringBuilder b = new StringBuilder();
        ss.forEach((k, v) -> b.append(k).append(" sent=").append(v[0]).append(" received=").append(v[1]).append("; "));
        return b.toString();
    }
}
