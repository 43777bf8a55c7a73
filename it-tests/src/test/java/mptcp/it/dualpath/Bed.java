package mptcp.it.dualpath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.Assumptions;

import mptcp.agent.demo.DualPathTopology;

/**
 * The dual-path tests' bench: prerequisites, a fresh {@link DualPathTopology} per test, child processes in its
 * namespaces (Java peers under the agent, ncat/nc under mptcpize) and what the kernel says about their sockets.
 */
final class Bed implements AutoCloseable {
    static final int PORT = 7000;
    static final String JDK17 = System.getProperty("jdk17.home", "/usr/lib/jvm/java-17-openjdk-amd64");
    static final String JDK25 = System.getProperty("jdk25.home", "/usr/lib/jvm/temurin-25-jdk-amd64");
    static final String AGENT = System.getProperty("agent.jar", "../agent/target/mptcp-agent.jar");

    final DualPathTopology net;
    private final List<Peer> peers = new CopyOnWriteArrayList<>();

    private Bed(DualPathTopology net) {
        this.net = net;
    }

    /** Checks the prerequisites (missing ones fail the test when CI=true, else skip it) and builds the topology. */
    static Bed create(String... jdkHomes) throws IOException {
        List<String> missing = new ArrayList<>();
        if (!"0".equals(DualPathTopology.run(List.of("id", "-u")).trim())) {
            missing.add("root");
        }
        for (String tool : List.of("ip", "iptables", "ss", "tc", "ncat", "nc", "mptcpize")) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        for (String jdk : jdkHomes) {
            if (!new File(jdk, "bin/java").canExecute()) {
                missing.add(jdk + "/bin/java");
            }
        }
        if (!new File(AGENT).isFile()) {
            missing.add(AGENT + " (run mvn package first)");
        }
        if (!new File("/proc/sys/net/mptcp/enabled").isFile()) {
            missing.add("a kernel with MPTCP (/proc/sys/net/mptcp)");
        }
        if (!missing.isEmpty()) {
            String why = "dual-path test prerequisites missing: " + String.join(", ", missing);
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            Assumptions.abort(why);
        }
        return new Bed(DualPathTopology.create());
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (new File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Where Traffic and Pattern were loaded from (it-tests/target/test-classes). */
    private static String testClasses() {
        try {
            return new File(Traffic.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A {@link Traffic} JVM in namespace {@code ns}; {@code agentOptions} null = no agent. */
    Peer traffic(String ns, String jdk, String agentOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(jdk + "/bin/java", "-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        if (agentOptions != null) {
            cmd.add("-javaagent:" + AGENT + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        cmd.addAll(List.of("-cp", testClasses(), Traffic.class.getName()));
        cmd.addAll(List.of(args));
        return start("java@" + ns, ns, cmd);
    }

    /** Any command in namespace {@code ns}; its stdout lines are collected, stderr goes to a separate list. */
    Peer start(String name, String ns, List<String> cmd) throws IOException {
        Peer p = new Peer(name, net.start(ns, cmd, ProcessBuilder.Redirect.PIPE), false);
        peers.add(p);
        return p;
    }

    /** A command whose stdout is kept as bytes (for nc/ncat receiving the pattern). */
    Peer startBinary(String name, String ns, List<String> cmd) throws IOException {
        Peer p = new Peer(name, net.start(ns, cmd, ProcessBuilder.Redirect.PIPE), true);
        peers.add(p);
        return p;
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
            List<DualPathTopology.Socket> c = net.tcpSockets(net.client, port);
            List<DualPathTopology.Socket> s = net.tcpSockets(net.server, port);
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
                + peers);
        return last;
    }

    static java.util.stream.Stream<DualPathTopology.Socket> established(List<DualPathTopology.Socket> l) {
        return l.stream().filter(x -> x.state.equals("ESTAB"));
    }

    private static boolean has(List<DualPathTopology.Socket> l, String local, String peer) {
        return l.stream().anyMatch(x -> x.mptcpSubflow && x.state.equals("ESTAB") && x.localAddress().equals(local) && x.peerAddress().equals(peer));
    }

    /** Streams the pattern into a process's stdin at {@code rate} bytes/s on a thread, then closes stdin. */
    static Thread feed(Peer p, long total, long rate) {
        Thread t = new Thread(() -> {
            try (OutputStream out = p.process.getOutputStream()) {
                Pattern.send(out, total, rate, 0, null);
            } catch (IOException e) {
                p.stderr.add("feed: " + e);
            }
        }, "feed-" + p.name);
        t.start();
        return t;
    }

    /** Checks that {@code got} is exactly the first {@code n} bytes of the pattern. */
    static void assertPattern(byte[] got, long n, String what) {
        long bad = Pattern.check(got, got.length, 0);
        assertTrue(bad < 0, what + ": byte at offset " + bad + " is not the pattern");
        assertEquals(n, got.length, what + ": byte count");
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
        String id = net.id;
        net.close();
        assertEquals(List.of(), DualPathTopology.namespaces(DualPathTopology.PREFIX + id), "namespaces left behind");
    }

    /** A child process with its stdout (lines or bytes) and stderr lines collected by threads. */
    static final class Peer {
        final String name;
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<String> stderr = new CopyOnWriteArrayList<>();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final Thread outReader;
        private final Thread errReader;

        Peer(String name, Process process, boolean binary) {
            this.name = name;
            this.process = process;
            this.outReader = binary ? copy(process.getInputStream(), bytes) : lines(process.getInputStream(), lines);
            this.errReader = lines(process.getErrorStream(), stderr);
        }

        private static Thread lines(InputStream in, List<String> into) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        into.add(l);
                    }
                } catch (IOException e) {
                    // process gone
                }
            });
            t.setDaemon(true);
            t.start();
            return t;
        }

        private static Thread copy(InputStream in, java.io.ByteArrayOutputStream into) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[65536];
                try {
                    for (int n; (n = in.read(b)) >= 0; ) {
                        synchronized (into) {
                            into.write(b, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // process gone
                }
            });
            t.setDaemon(true);
            t.start();
            return t;
        }

        byte[] bytes() {
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }

        /** Waits for a stdout line matching {@code p}; fails the test after {@code timeoutMs}. */
        String await(Predicate<String> p, long timeoutMs) throws InterruptedException {
            long end = System.nanoTime() + timeoutMs * 1_000_000;
            while (System.nanoTime() - end < 0) {
                for (String l : lines) {
                    if (p.test(l)) {
                        return l;
                    }
                }
                if (!process.isAlive() && !outReader.isAlive()) {
                    break;
                }
                Thread.sleep(20);
            }
            fail(name + ": no expected line within " + timeoutMs + " ms" + this);
            return null;
        }

        /** Waits for the process to exit (fails the test after {@code timeoutMs}); returns its exit code. */
        int exit(long timeoutMs) throws InterruptedException {
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                fail(name + ": still running after " + timeoutMs + " ms" + this);
            }
            outReader.join(5000);
            errReader.join(5000);
            return process.exitValue();
        }

        /** The {@code result} line of connection {@code conn} (Traffic output). */
        String result(String conn) {
            return lines.stream().filter(l -> l.startsWith("result " + conn + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": no result line for " + conn + this));
        }

        @Override
        public String toString() {
            return "\n--- " + name + " stdout:\n" + String.join("\n", lines) + "\n--- " + name + " stderr:\n"
                    + String.join("\n", stderr);
        }
    }
}
