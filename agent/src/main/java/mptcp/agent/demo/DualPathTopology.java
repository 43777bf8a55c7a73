package mptcp.agent.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A "dual-path" test bed made of four network namespaces, built with {@code ip} and removed on {@link #close()} (and by a
 * JVM shutdown hook if the caller never gets there). Root only. Used by {@code demo --dual-path}, the integration tests
 * and the benchmark.
 *
 * <pre>
 *                 upper path (default route)
 *          eth1 10.91.3.2  --  router-1  --  10.91.1.2 eth1
 *   client                                                  server
 *          eth2 10.91.4.2  --  router-2  --  10.91.2.2 eth2
 *                 lower path (direct routes)
 * </pre>
 *
 * Routers have {@code eth1} towards the server and {@code eth2} towards the client. Both ends get
 * {@code ip mptcp limits set subflow 2 add_addr_accepted 2}; each end signals its lower-path address, so a client that
 * connects to {@link #SERVER_UPPER} opens its second subflow from {@link #CLIENT_LOWER} to {@link #SERVER_LOWER}.
 * The addresses exist only inside the namespaces; the namespace names are {@code mpa-<random>-c|r1|r2|s}, unique per run.
 */
public final class DualPathTopology implements AutoCloseable {
    public static final String SERVER_UPPER = "10.91.1.2";
    public static final String SERVER_LOWER = "10.91.2.2";
    public static final String CLIENT_UPPER = "10.91.3.2";
    public static final String CLIENT_LOWER = "10.91.4.2";
    /** Name prefix of every namespace this class creates. */
    public static final String PREFIX = "mpa-";

    public final String id;
    public final String client;
    public final String router1;
    public final String router2;
    public final String server;

    private final List<String> created = new ArrayList<>();
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::teardown, "mptcp-agent dual-path teardown");
    private boolean closed;

    private DualPathTopology(String id) {
        this.id = id;
        this.client = PREFIX + id + "-c";
        this.router1 = PREFIX + id + "-r1";
        this.router2 = PREFIX + id + "-r2";
        this.server = PREFIX + id + "-s";
    }

    /** Builds the whole topology; on any failure removes what was made and throws. */
    public static DualPathTopology create() throws IOException {
        byte[] r = new byte[3];
        new SecureRandom().nextBytes(r);
        DualPathTopology t = new DualPathTopology(String.format("%02x%02x%02x", r[0], r[1], r[2]));
        Runtime.getRuntime().addShutdownHook(t.hook);
        try {
            t.build();
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    private void build() throws IOException {
        for (String ns : List.of(client, router1, router2, server)) {
            ip("netns", "add", ns);
            created.add(ns);
            ip("-n", ns, "link", "set", "lo", "up");
        }
        // veth pairs are created inside the namespaces, never in the caller's
        link(server, "eth1", router1, "eth1");
        link(router1, "eth2", client, "eth1");
        link(server, "eth2", router2, "eth1");
        link(router2, "eth2", client, "eth2");
        addr(server, "eth1", SERVER_UPPER);
        addr(router1, "eth1", "10.91.1.1");
        addr(router1, "eth2", "10.91.3.1");
        addr(client, "eth1", CLIENT_UPPER);
        addr(server, "eth2", SERVER_LOWER);
        addr(router2, "eth1", "10.91.2.1");
        addr(router2, "eth2", "10.91.4.1");
        addr(client, "eth2", CLIENT_LOWER);
        for (String r : List.of(router1, router2)) {
            exec(r, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        }
        // upper path is the default route; the lower path has direct routes
        ip("-n", server, "route", "add", "default", "via", "10.91.1.1");
        ip("-n", server, "route", "add", "10.91.4.0/24", "via", "10.91.2.1");
        ip("-n", client, "route", "add", "default", "via", "10.91.3.1");
        ip("-n", client, "route", "add", "10.91.2.0/24", "via", "10.91.4.1");
        ip("-n", server, "mptcp", "limits", "set", "subflow", "2", "add_addr_accepted", "2");
        ip("-n", client, "mptcp", "limits", "set", "subflow", "2", "add_addr_accepted", "2");
        ip("-n", server, "mptcp", "endpoint", "add", SERVER_LOWER, "dev", "eth2", "signal");
        ip("-n", client, "mptcp", "endpoint", "add", CLIENT_LOWER, "dev", "eth2", "signal");
    }

    private void link(String ns1, String dev1, String ns2, String dev2) throws IOException {
        ip("-n", ns1, "link", "add", dev1, "type", "veth", "peer", "name", dev2, "netns", ns2);
        ip("-n", ns1, "link", "set", dev1, "up");
        ip("-n", ns2, "link", "set", dev2, "up");
    }

    private void addr(String ns, String dev, String address) throws IOException {
        ip("-n", ns, "addr", "add", address + "/24", "dev", dev);
    }

    /** 1 = router-1 (upper path), 2 = router-2 (lower path). */
    public String router(int path) {
        if (path != 1 && path != 2) {
            throw new IllegalArgumentException("path is 1 (upper) or 2 (lower): " + path);
        }
        return path == 1 ? router1 : router2;
    }

    /** Drops everything the router forwards ({@code iptables -A FORWARD -j DROP} in its namespace). */
    public void cut(int path) throws IOException {
        exec(router(path), "iptables", "-w", "-A", "FORWARD", "-j", "DROP");
    }

    /** Removes the rule {@link #cut} added. */
    public void restore(int path) throws IOException {
        exec(router(path), "iptables", "-w", "-D", "FORWARD", "-j", "DROP");
    }

    /** {@code sysctl net.mptcp.enabled} in one namespace: with 0, MPTCP sockets are refused with ENOPROTOOPT there. */
    public void mptcpEnabled(String ns, boolean enabled) throws IOException {
        exec(ns, "sysctl", "-qw", "net.mptcp.enabled=" + (enabled ? 1 : 0));
    }

    /**
     * Limits what a router forwards in both directions: a token bucket filter of {@code rate} (tc syntax, e.g.
     * "40mbit") on both of its interfaces.
     */
    public void rateLimit(int path, String rate) throws IOException {
        for (String dev : List.of("eth1", "eth2")) {
            exec(router(path), "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", "32kb",
                    "latency", "50ms");
        }
    }

    /** The command, run in namespace {@code ns}. */
    public static List<String> in(String ns, List<String> command) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(command);
        return c;
    }

    /**
     * Starts {@code command} in namespace {@code ns}, its stderr going to {@code stderr}; it is killed (with its
     * children) by {@link #close()}.
     */
    public Process start(String ns, List<String> command, ProcessBuilder.Redirect stderr) throws IOException {
        Process p = new ProcessBuilder(in(ns, command)).redirectError(stderr).start();
        processes.add(p);
        return p;
    }

    /** Runs {@code command} in namespace {@code ns} and returns its output; throws if it fails. */
    public String exec(String ns, String... command) throws IOException {
        return run(in(ns, List.of(command)));
    }

    private static String ip(String... args) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip"));
        c.addAll(List.of(args));
        return run(c);
    }

    /** Runs a command to completion (30 s at most); returns stdout+stderr; throws with that text if it fails. */
    public static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try {
            String out = readAll(p.getInputStream());
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + ": " + out.trim());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": interrupted");
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toString(StandardCharsets.UTF_8);
    }

    /** One TCP socket as {@code ss -tni} shows it; {@code mptcpSubflow} when the kernel marks it tcp-ulp-mptcp. */
    public static final class Socket {
        public final String state;
        public final String local;
        public final String peer;
        public final boolean mptcpSubflow;
        public final String line;

        Socket(String state, String local, String peer, boolean mptcpSubflow, String line) {
            this.state = state;
            this.local = local;
            this.peer = peer;
            this.mptcpSubflow = mptcpSubflow;
            this.line = line;
        }

        /** The local IPv4 address, also for a dual-stack socket ({@code [::ffff:10.91.3.2]:port}). */
        public String localAddress() {
            return address(local);
        }

        public String peerAddress() {
            return address(peer);
        }

        private static String address(String endpoint) {
            String a = endpoint.substring(0, endpoint.lastIndexOf(':')).replace("[", "").replace("]", "");
            return a.startsWith("::ffff:") ? a.substring(7) : a;
        }

        @Override
        public String toString() {
            return state + " " + local + " -> " + peer + (mptcpSubflow ? " tcp-ulp-mptcp" : " plain TCP");
        }
    }

    /** Connected TCP sockets in {@code ns} with local or remote port {@code port}, read with {@code ss -tniH}. */
    public List<Socket> tcpSockets(String ns, int port) throws IOException {
        String out = exec(ns, "ss", "-tniH", "state", "connected",
                "( sport = :" + port + " or dport = :" + port + " )");
        List<Socket> result = new ArrayList<>();
        String[] head = null;
        StringBuilder info = new StringBuilder();
        for (String l : (out + "\nEND").split("\n")) {
            if (l.isBlank()) {
                continue;
            }
            if (!Character.isWhitespace(l.charAt(0))) {
                if (head != null) {
                    // State Recv-Q Send-Q Local Peer
                    result.add(new Socket(head[0], head[3], head[4], info.toString().contains("tcp-ulp-mptcp"),
                            String.join(" ", head) + " " + info.toString().trim()));
                }
                head = l.trim().split("\\s+");
                info.setLength(0);
            } else {
                info.append(l).append(' ');
            }
        }
        return result;
    }

    /** {@code ss -Mni} in {@code ns}: the MPTCP-level sockets (one line pair per connection or listener). */
    public String mptcpSockets(String ns) throws IOException {
        return exec(ns, "ss", "-Mni");
    }

    /** Kills the processes started here, then deletes the namespaces (and with them veths, routes, qdiscs, rules). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        teardown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running this
        }
    }

    private synchronized void teardown() {
        if (closed) {
            return;
        }
        closed = true;
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                ip("netns", "delete", created.get(i));
            } catch (IOException e) {
                System.err.println("mptcp-agent: dual-path teardown: " + e.getMessage());
            }
        }
        created.clear();
    }

    /** Namespaces whose name starts with {@code mpa-<id>}, as {@code ip netns list} shows them. */
    public static List<String> namespaces(String startsWith) throws IOException {
        List<String> r = new ArrayList<>();
        for (String l : run(List.of("ip", "netns", "list")).split("\n")) {
            String name = l.trim().split("\\s+")[0];
            if (!name.isEmpty() && name.startsWith(startsWith)) {
                r.add(name);
            }
        }
        return r;
    }
}
