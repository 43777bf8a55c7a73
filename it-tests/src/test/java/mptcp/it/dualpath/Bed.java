package mptcp.it.dualpath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import mptcp.agent.demo.DualPathTopology;
import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Prerequisites;
import mptcp.it.Ss;

/**
 * The dual-path tests' bench: prerequisites, a fresh {@link DualPathTopology} (the demo's namespace test bed) per test,
 * child processes in its namespaces ({@link ChildJvm}: Java peers under the agent, ncat/nc under mptcpize) and what
 * the kernel says about their sockets ({@link Ss}, this module's own reading of ss).
 */
final class Bed implements AutoCloseable {
    static final int PORT = 7000;

    final DualPathTopology net;
    private final List<ChildJvm> children = new CopyOnWriteArrayList<>();

    private Bed(DualPathTopology net) {
        this.net = net;
    }

    /** Checks the prerequisites (missing ones fail the test when CI=true, else skip it) and builds the topology. */
    static Bed create(Jdk... jdks) throws Exception {
        List<String> missing = Prerequisites.missing(List.of("ip", "iptables", "ss", "tc", "ncat", "nc", "mptcpize"));
        for (Jdk jdk : jdks) {
            try {
                jdk.home();
            } catch (IllegalStateException e) {
                missing.add(e.getMessage());
            }
        }
        if (!ChildJvm.AGENT.toFile().isFile()) {
            missing.add(ChildJvm.AGENT + " (run mvn package first)");
        }
        if (!new File("/proc/sys/net/mptcp/enabled").isFile()) {
            missing.add("a kernel with MPTCP (/proc/sys/net/mptcp)");
        }
        Prerequisites.require("dual-path test", missing);
        return new Bed(DualPathTopology.create());
    }

    /** A {@link Traffic} JVM on {@code jdk} in namespace {@code ns}; {@code agentOptions} null = no agent. */
    ChildJvm traffic(String ns, Jdk jdk, String agentOptions, String... args) throws IOException {
        List<String> jvm = new ArrayList<>(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        if (agentOptions != null) {
            jvm.add(ChildJvm.agentArg(agentOptions));
        }
        return keep(ChildJvm.javaUnder(DualPathTopology.in(ns, List.of()), jdk, jvm, Traffic.class.getName(), args)
                .named("java@" + ns));
    }

    /** Another Java program of this module in namespace {@code ns}, with {@code jvmArgs} (agents, options). */
    ChildJvm java(String ns, Jdk jdk, List<String> jvmArgs, Class<?> main, String... args) throws IOException {
        List<String> jvm = new ArrayList<>(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        jvm.addAll(jvmArgs);
        return keep(ChildJvm.javaUnder(DualPathTopology.in(ns, List.of()), jdk, jvm, main.getName(), args)
                .named("java@" + ns));
    }

    /** Any command in namespace {@code ns}; its stdout lines and stderr lines are collected. */
    ChildJvm start(String name, String ns, List<String> cmd) throws IOException {
        return keep(ChildJvm.command(DualPathTopology.in(ns, cmd), java.util.Map.of()).named(name));
    }

    /** A command whose stdout is kept as bytes (for nc/ncat receiving the pattern). */
    ChildJvm startBinary(String name, String ns, List<String> cmd) throws IOException {
        return keep(ChildJvm.binary(DualPathTopology.in(ns, cmd)).named(name));
    }

    private ChildJvm keep(ChildJvm c) {
        children.add(c);
        return c;
    }

    /**
     * Waits until the kernel shows, in both the client and the server namespace, two established TCP subflows
     * (tcp-ulp-mptcp) on port {@code port}: one over the upper path and one over the lower path.
     * @return the ss views, for the test log
     */
    String awaitTwoSubflows(int port, long timeoutMs) throws Exception {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        String last = "";
        while (System.nanoTime() - end < 0) {
            List<Ss.Entry> c = Ss.connected(net.client, port);
            List<Ss.Entry> s = Ss.connected(net.server, port);
            last = "client ns: " + c + "\nserver ns: " + s;
            if (has(c, DualPathTopology.CLIENT_UPPER, DualPathTopology.SERVER_UPPER)
                    && has(c, DualPathTopology.CLIENT_LOWER, DualPathTopology.SERVER_LOWER)
                    && has(s, DualPathTopology.SERVER_UPPER, DualPathTopology.CLIENT_UPPER)
                    && has(s, DualPathTopology.SERVER_LOWER, DualPathTopology.CLIENT_LOWER)) {
                return last;
            }
            Thread.sleep(50);
        }
        fail("the kernel never showed one MPTCP subflow per path within " + timeoutMs + " ms; last seen:\n" + last
                + children);
        return last;
    }

    static java.util.stream.Stream<Ss.Entry> established(List<Ss.Entry> l) {
        return l.stream().filter(x -> x.state.equals("ESTAB"));
    }

    private static boolean has(List<Ss.Entry> l, String local, String peer) {
        return l.stream().anyMatch(x -> x.subflow && x.state.equals("ESTAB") && x.localAddress().equals(local) && x.peerAddress().equals(peer));
    }

    /** Streams the pattern into a process's stdin at {@code rate} bytes/s on a thread, then closes stdin. */
    static Thread feed(ChildJvm p, long total, long rate) {
        Thread t = new Thread(() -> {
            try (OutputStream out = p.stdinStream()) {
                Pattern.send(out, total, rate, 0, null);
            } catch (IOException e) {
                System.out.println("feed: " + e);
            }
        }, "feed");
        t.start();
        return t;
    }

    /** Checks that {@code got} is exactly the first {@code n} bytes of the pattern. */
    static void assertPattern(byte[] got, long n, String what) {
        long bad = Pattern.check(got, got.length, 0);
        assertTrue(bad < 0, what + ": byte at offset " + bad + " is not the pattern");
        assertEquals(n, got.length, what + ": byte count");
    }

    /** The {@code result} line of connection {@code conn} (Traffic output). */
    static String result(ChildJvm p, String conn) {
        return p.stdoutLines().stream().filter(l -> l.startsWith("result " + conn + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no result line for " + conn + p));
    }

    /** From the progress lines: the longest run of consecutive intervals in which no byte arrived, in ms. */
    static long longestStall(List<String> lines, String conn) {
        long longest = 0;
        long run = 0;
        long prevRx = -1;
        long prevT = 0;
        for (String l : lines) {
            if (!l.startsWith("progress " + conn + " ")) {
                continue;
            }
            long t = field(l, "t");
            long rx = field(l, "rx");
            if (prevRx >= 0 && rx == prevRx) {
                run += t - prevT;
                longest = Math.max(longest, run);
            } else {
                run = 0;
            }
            prevRx = rx;
            prevT = t;
        }
        return longest;
    }

    static long field(String line, String key) {
        for (String f : line.split(" ")) {
            if (f.startsWith(key + "=")) {
                return Long.parseLong(f.substring(key.length() + 1));
            }
        }
        throw new IllegalArgumentException("no " + key + " in: " + line);
    }

    @Override
    public void close() throws IOException {
        for (ChildJvm c : children) {
            c.close();
        }
        String id = net.id;
        net.close();
        assertEquals(List.of(), DualPathTopology.namespaces(DualPathTopology.PREFIX + id), "namespaces left behind");
    }
}
