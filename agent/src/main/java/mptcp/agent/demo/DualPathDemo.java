package mptcp.agent.demo;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.concurrent.TimeUnit;

import mptcp.agent.jdk.JdkFds;

/**
 * {@code demo --dual-path} (root): builds the {@link DualPathTopology}, runs a server JVM and a client JVM under the
 * agent in its namespaces, prints the two subflows the kernel shows, cuts the upper path while data flows, shows the
 * transfer continuing over the lower path, and removes everything. The peers run this class again
 * ({@code demo --dual-path --peer server|client ...}).
 */
public final class DualPathDemo {
    private static final int PORT = 7000;
    private static final int SECONDS = 8;
    private static final int RATE = 2_000_000;

    private DualPathDemo() {
    }

    /**
     * Runs the demo with the agent jar {@code jar}; {@code status} prints {@code status <pid>} of the client JVM.
     */
    public static int run(String jar, PrintStream out, LongConsumer status) throws Exception {
        if (!"0".equals(DualPathTopology.run(List.of("id", "-u")).trim())) {
            System.err.println("mptcp-agent: demo --dual-path creates network namespaces: run it as root");
            return 1;
        }
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        out.println("Building the dual-path topology (4 network namespaces):");
        try (DualPathTopology net = DualPathTopology.create()) {
            out.println("  client " + net.client + "  " + DualPathTopology.CLIENT_UPPER + " (upper, via " + net.router1
                    + ")  " + DualPathTopology.CLIENT_LOWER + " (lower, via " + net.router2 + ")");
            out.println("  server " + net.server + "  " + DualPathTopology.SERVER_UPPER + " (upper)  "
                    + DualPathTopology.SERVER_LOWER + " (lower, signalled to clients)");
            Process server = net.start(net.server, List.of(java, "-javaagent:" + jar, "-cp", jar,
                    "mptcp.agent.boot.Launcher", "demo", "--dual-path", "--peer", "server", "" + PORT),
                    ProcessBuilder.Redirect.INHERIT);
            List<String> serverLines = new ArrayList<>();
            Thread serverReader = echo(server.getInputStream(), "  server JVM | ", out, serverLines);
            for (int i = 0; i < 300 && serverLines.isEmpty() && server.isAlive(); i++) {
                Thread.sleep(50);
            }
            out.println("Client JVM sends " + SECONDS + " s of a checked byte pattern at " + RATE / 1000 + " kB/s to "
                    + DualPathTopology.SERVER_UPPER + ":" + PORT);
            Process client = net.start(net.client, List.of(java, "-javaagent:" + jar, "-cp", jar,
                    "mptcp.agent.boot.Launcher", "demo", "--dual-path", "--peer", "client",
                    DualPathTopology.SERVER_UPPER, "" + PORT), ProcessBuilder.Redirect.INHERIT);
            Thread clientReader = echo(client.getInputStream(), "  client JVM | ", out, new ArrayList<>());
            boolean two = false;
            for (int i = 0; i < 200 && !two && client.isAlive(); i++) {
                Thread.sleep(50);
                List<DualPathTopology.Socket> c = net.tcpSockets(net.client, PORT);
                two = c.stream().filter(s -> s.mptcpSubflow && s.state.equals("ESTAB")).count() >= 2;
            }
            subflows(net, out, "The kernel's view (ss -tni), one MPTCP connection made of two TCP subflows:");
            out.println("The agent's view from inside the client JVM (java -jar mptcp-agent.jar status " + client.pid() + "):");
            out.flush();
            status.accept(client.pid());
            Thread.sleep(1500);
            out.println(">>> Cutting the upper path: iptables -A FORWARD -j DROP in " + net.router1);
            net.cut(1);
            Thread.sleep(2500);
            subflows(net, out, "The kernel's view after the cut (the upper subflow gets no ACKs; data goes over the lower one):");
            boolean clientDone = client.waitFor(60, TimeUnit.SECONDS);
            boolean serverDone = server.waitFor(30, TimeUnit.SECONDS);
            clientReader.join(5000);
            serverReader.join(5000);
            boolean ok = clientDone && serverDone && server.exitValue() == 0 && client.exitValue() == 0;
            out.println(ok ? "Result: the transfer completed byte-exact although the upper path was cut midway."
                    : "Result: FAILED (see the lines above)");
            out.println("Removing the namespaces " + net.client + ", " + net.router1 + ", " + net.router2 + ", " + net.server);
            return ok ? 0 : 1;
        }
    }

    private static void subflows(DualPathTopology net, PrintStream out, String title) throws IOException {
        out.println(title);
        for (String ns : List.of(net.client, net.server)) {
            for (DualPathTopology.Socket s : net.tcpSockets(ns, PORT)) {
                String path = s.localAddress().startsWith("10.91.1.") || s.localAddress().startsWith("10.91.3.")
                        ? "upper" : "lower";
                out.printf("  %-6s %-5s %-8s %s -> %s  %s%s%n", ns.endsWith("-c") ? "client" : "server", path,
                        s.state, s.localAddress() + s.local.substring(s.local.lastIndexOf(':')),
                        s.peerAddress() + s.peer.substring(s.peer.lastIndexOf(':')),
                        s.mptcpSubflow ? "tcp-ulp-mptcp" : "plain TCP", counters(s.line));
            }
        }
    }

    private static String counters(String line) {
        StringBuilder b = new StringBuilder();
        for (String f : line.split("\\s+")) {
            if (f.startsWith("bytes_acked:") || f.startsWith("bytes_received:") || f.startsWith("unacked:")
                    || f.startsWith("retrans:")) {
                b.append(' ').append(f);
            }
        }
        return b.toString();
    }

    private static Thread echo(InputStream in, String prefix, PrintStream out, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                    out.println(prefix + l);
                }
            } catch (IOException e) {
                // peer gone
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Byte {@code i} of the demo stream. */
    private static byte pattern(long i) {
        return (byte) (i ^ (i >>> 8) ^ (i >>> 16) ^ (i >>> 24));
    }

    /** Runs in a child JVM under the agent: {@code server PORT} or {@code client HOST PORT}. */
    /** One side of the demo, in a child JVM inside the topology ({@code demo --dual-path --peer ...}). */
    public static int peer(List<String> args, PrintStream out) throws Exception {
        if (args.get(0).equals("server")) {
            try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                // wildcard address, open while the connection lives: the client's second subflow joins through it
                listener.bind(new InetSocketAddress(Integer.parseInt(args.get(1))));
                out.println("listening on " + listener.getLocalAddress());
                out.flush();
                try (SocketChannel s = listener.accept()) {
                    out.println("accepted " + s.getRemoteAddress() + " (" + protocol(s) + ")");
                    ByteBuffer b = ByteBuffer.allocate(65536);
                    long total = 0;
                    long lastTotal = 0;
                    long next = System.nanoTime() + 1_000_000_000L;
                    int second = 0;
                    while (s.read(b) >= 0) {
                        b.flip();
                        while (b.hasRemaining()) {
                            if (b.get() != pattern(total)) {
                                out.println("byte " + total + " differs from what was sent");
                                return 1;
                            }
                            total++;
                        }
                        b.clear();
                        for (long now = System.nanoTime(); now - next >= 0; next += 1_000_000_000L) {
                            out.printf("second %2d: received %,9d bytes (total %,d)%n", ++second, total - lastTotal, total);
                            lastTotal = total;
                        }
                    }
                    s.shutdownOutput();
                    out.printf("end of stream: %,d bytes received, every byte as sent%n", total);
                }
            }
            return 0;
        }
        try (SocketChannel s = SocketChannel.open(new InetSocketAddress(args.get(1), Integer.parseInt(args.get(2))))) {
            out.println("connected " + s.getLocalAddress() + " -> " + s.getRemoteAddress() + " (" + protocol(s) + ")");
            out.flush();
            ByteBuffer b = ByteBuffer.allocate(RATE / 50);
            long sent = 0;
            long start = System.nanoTime();
            while (System.nanoTime() - start < SECONDS * 1_000_000_000L) {
                long due = start + sent * 1_000_000_000L / RATE;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                b.clear();
                while (b.hasRemaining()) {
                    b.put(pattern(sent + b.position()));
                }
                b.flip();
                while (b.hasRemaining()) {
                    s.write(b);
                }
                sent += b.limit();
            }
            s.shutdownOutput();
            s.read(ByteBuffer.allocate(1));
            out.printf("sent %,d bytes in %d s%n", sent, SECONDS);
        }
        return 0;
    }

    private static String protocol(SocketChannel s) {
        try {
            int fd = JdkFds.fd(s);
            return mptcp.sys.Sock.protocol(fd) == mptcp.sys.LibC.IPPROTO_MPTCP ? "MPTCP socket" : "TCP socket";
        } catch (Throwable t) {
            return "protocol unknown: " + t;
        }
    }
}
