package mptcp.it.dualpath;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import mptcp.agent.demo.DualPathTopology;

/**
 * The dual-path benchmark (run by bench/dual-path.sh; not a test). Rate-limits each path on its router, then prints
 * single-path TCP throughput, the agent's MPTCP throughput over both paths and their ratio, and the failover stall
 * (longest time without data at the receiver when the upper path is cut) for the agent's JVMs and for
 * {@code mptcpize run} ncat/nc peers doing the same transfer.
 */
public final class DualPathBench {
    private static final String JAVA = System.getProperty("java.home") + "/bin/java";
    private static final String AGENT = System.getProperty("agent.jar");

    private DualPathBench() {
    }

    public static void main(String[] args) throws Exception {
        String rate = System.getProperty("bench.rate", "40mbit");
        int seconds = Integer.getInteger("bench.seconds", 6);
        try (DualPathTopology net = DualPathTopology.create()) {
            net.rateLimit(1, rate);
            net.rateLimit(2, rate);
            System.out.printf("each path: tc tbf %s on both router interfaces; %d s bulk transfers%n", rate, seconds);
            double tcp = throughput(net, 7001, null, seconds);
            System.out.printf("single-path TCP (no agent)          %7.1f Mbit/s%n", tcp);
            double mptcp = throughput(net, 7002, "", seconds);
            System.out.printf("agent MPTCP over both paths         %7.1f Mbit/s%n", mptcp);
            System.out.printf("ratio MPTCP / TCP                   %7.2f x%n", mptcp / tcp);
            long agentStall = agentFailover(net, 7003);
            System.out.printf("failover stall, agent JVMs          %7d ms (longest gap between reads at the receiver, upper path cut)%n", agentStall);
            long mptcpizeStall = mptcpizeFailover(net, 7004);
            System.out.printf("failover stall, mptcpize ncat/nc    %7d ms (same transfer, same cut)%n", mptcpizeStall);
        }
    }

    private static List<String> traffic(String agent, String... args) {
        List<String> c = new ArrayList<>(List.of(JAVA));
        if (agent != null) {
            c.add("-javaagent:" + AGENT + (agent.isEmpty() ? "" : "=" + agent));
        }
        // only the test classes: the agent's own classes must come from the agent jar alone
        c.addAll(List.of("-cp", Traffic.class.getProtectionDomain().getCodeSource().getLocation().getPath(),
                Traffic.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    /** Bulk transfer client -> server for {@code seconds}; returns what the server received in Mbit/s. */
    private static double throughput(DualPathTopology net, int port, String agent, int seconds) throws Exception {
        Process server = net.start(net.server, traffic(agent, "server", "" + port), ProcessBuilder.Redirect.INHERIT);
        BufferedReader sr = reader(server.getInputStream());
        sr.readLine(); // listening
        Process client = net.start(net.client, traffic(agent, "client", DualPathTopology.SERVER_UPPER, "" + port,
                "--seconds", "" + seconds), ProcessBuilder.Redirect.INHERIT);
        String result = lastResult(sr);
        client.waitFor(60, TimeUnit.SECONDS);
        server.waitFor(60, TimeUnit.SECONDS);
        if (result == null || !result.contains(" ok=true ")) {
            throw new IllegalStateException("transfer failed: " + result);
        }
        return Bed.field(result, "rx") * 8.0 / (Bed.field(result, "ms") / 1000.0) / 1e6;
    }

    private static long agentFailover(DualPathTopology net, int port) throws Exception {
        Process server = net.start(net.server, traffic("", "server", "" + port, "--expect", "4000000"),
                ProcessBuilder.Redirect.INHERIT);
        BufferedReader sr = reader(server.getInputStream());
        sr.readLine();
        Process client = net.start(net.client, traffic("", "client", DualPathTopology.SERVER_UPPER, "" + port,
                "--send", "4000000", "--rate", "1000000"), ProcessBuilder.Redirect.INHERIT);
        cutWhenJoined(net, port);
        String result = lastResult(sr);
        client.waitFor(60, TimeUnit.SECONDS);
        server.waitFor(60, TimeUnit.SECONDS);
        net.restore(1);
        if (result == null || !result.contains(" ok=true ")) {
            throw new IllegalStateException("agent failover transfer failed: " + result);
        }
        return Bed.field(result, "maxStallMs");
    }

    private static long mptcpizeFailover(DualPathTopology net, int port) throws Exception {
        Process server = net.start(net.server, List.of("mptcpize", "run", "ncat", "-l", "0.0.0.0", "" + port,
                "--recv-only"), ProcessBuilder.Redirect.INHERIT);
        server.getOutputStream().close();
        long[] stall = new long[1];
        long[] got = new long[1];
        long[] bad = {-1};
        Thread reader = new Thread(() -> {
            byte[] b = new byte[65536];
            long last = 0;
            try (InputStream in = server.getInputStream()) {
                for (int n; (n = in.read(b)) >= 0; ) {
                    long now = System.nanoTime();
                    if (last != 0) {
                        stall[0] = Math.max(stall[0], now - last);
                    }
                    last = now;
                    if (bad[0] < 0) {
                        bad[0] = Pattern.check(b, n, got[0]);
                    }
                    got[0] += n;
                }
            } catch (IOException e) {
                // ncat gone
            }
        });
        reader.start();
        for (int i = 0; i < 200 && !net.exec(net.server, "ss", "-ltnH", "sport = :" + port).contains(":" + port); i++) {
            Thread.sleep(25);
        }
        Process client = net.start(net.client, List.of("mptcpize", "run", "nc", "-N", DualPathTopology.SERVER_UPPER,
                "" + port), ProcessBuilder.Redirect.INHERIT);
        Thread feed = new Thread(() -> {
            try (OutputStream out = client.getOutputStream()) {
                Pattern.send(out, 4_000_000, 1_000_000, 0, null);
            } catch (IOException e) {
                System.err.println("feed: " + e);
            }
        });
        feed.start();
        cutWhenJoined(net, port);
        feed.join(60_000);
        client.waitFor(60, TimeUnit.SECONDS);
        server.waitFor(60, TimeUnit.SECONDS);
        reader.join(10_000);
        net.restore(1);
        if (got[0] != 4_000_000 || bad[0] >= 0) {
            throw new IllegalStateException("mptcpize failover transfer: " + got[0] + " bytes, first wrong at " + bad[0]);
        }
        return stall[0] / 1_000_000;
    }

    /** Waits for the lower-path subflow, lets data flow for a second, then cuts the upper path. */
    private static void cutWhenJoined(DualPathTopology net, int port) throws Exception {
        for (int i = 0; i < 400; i++) {
            if (net.tcpSockets(net.client, port).stream().anyMatch(s -> s.mptcpSubflow && s.state.equals("ESTAB")
                    && s.localAddress().equals(DualPathTopology.CLIENT_LOWER))) {
                Thread.sleep(1000);
                net.cut(1);
                return;
            }
            Thread.sleep(25);
        }
        throw new IllegalStateException("no subflow on the lower path");
    }

    private static BufferedReader reader(InputStream in) {
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    private static String lastResult(BufferedReader r) throws IOException {
        String result = null;
        for (String l; (l = r.readLine()) != null; ) {
            if (l.startsWith("result ")) {
                result = l;
            }
        }
        return result;
    }
}
