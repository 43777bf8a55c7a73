package mptcp.agent.demo;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import mptcp.agent.jdk.JdkFds;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * {@code demo}: starts a server JVM and a client JVM under the agent on loopback, exchanges a message, and each side
 * prints what the kernel says about its end of the connection (getsockopt SO_PROTOCOL and TCP_IS_MPTCP). No root needed.
 */
public final class Demo {
    /** The demo runs on loopback, which stays TCP by default. */
    static final String OPTIONS = "loopback=mptcp";

    private Demo() {
    }

    /** Runs the demo with the agent jar {@code jar}. */
    public static int run(String jar, PrintStream out) throws Exception {
        out.println("Starting a server and a client JVM, each with -javaagent:" + jar + "=" + OPTIONS);
        out.println("(" + OPTIONS + ": loopback connections stay plain TCP by default; this demo runs on loopback, so it"
                + " asks for MPTCP there)");
        Process server = peer(jar, "server", "0");
        try {
            BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = serverOut.readLine();
            if (first == null || !first.startsWith("port ")) {
                out.println("demo server did not start: " + first);
                return 1;
            }
            Process client = peer(jar, "client", first.substring(5));
            List<String> lines = new ArrayList<>();
            try (BufferedReader clientOut = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = clientOut.readLine()) != null; ) {
                    lines.add(l);
                }
            }
            for (String l; (l = serverOut.readLine()) != null; ) {
                lines.add(l);
            }
            client.waitFor(30, TimeUnit.SECONDS);
            server.waitFor(30, TimeUnit.SECONDS);
            long mptcp = lines.stream().filter(l -> l.contains("SO_PROTOCOL=262") && l.contains("TCP_IS_MPTCP=1")).count();
            lines.forEach(out::println);
            if (mptcp == 2) {
                out.println("Result: both ends of the connection are MPTCP, as read from the kernel.");
                return 0;
            }
            out.println("Result: the connection is NOT MPTCP on both ends (see the agent's WARN line above for why).");
            return 1;
        } finally {
            server.destroyForcibly();
        }
    }

    private static Process peer(String jar, String role, String port) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        return new ProcessBuilder(java, "-javaagent:" + jar + "=" + OPTIONS, "-cp", jar, "mptcp.agent.boot.Launcher", "demo-peer", role, port)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** Runs inside a child JVM that has the agent loaded. */
    /** One side of the demo, in a child JVM ({@code demo-peer server|client <port>}). */
    public static int peer(List<String> args, PrintStream out) throws Exception {
        long pid = ProcessHandle.current().pid();
        if (args.get(0).equals("server")) {
            try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                listener.bind(new InetSocketAddress("127.0.0.1", 0));
                out.println("port " + ((InetSocketAddress) listener.getLocalAddress()).getPort());
                out.flush();
                try (SocketChannel s = listener.accept()) {
                    String got = exchange(s, null);
                    out.println(report("server", pid, s) + "  received \"" + got + "\"");
                }
            }
        } else {
            try (SocketChannel s = SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(args.get(1))))) {
                exchange(s, "hello over MPTCP");
                out.println(report("client", pid, s));
            }
        }
        return 0;
    }

    private static String exchange(SocketChannel s, String send) throws Exception {
        if (send != null) {
            s.write(ByteBuffer.wrap((send + "\n").getBytes(StandardCharsets.UTF_8)));
            s.shutdownOutput();
            s.read(ByteBuffer.allocate(1));
            return send;
        }
        ByteBuffer b = ByteBuffer.allocate(256);
        while (s.read(b) >= 0) {
            // until the client shuts down its output
        }
        s.shutdownOutput();
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
    }

    private static String report(String role, long pid, SocketChannel s) throws Exception {
        int fd = JdkFds.fd(s);
        int protocol = Sock.protocol(fd);
        int isMptcp = Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_IS_MPTCP);
        return String.format("%-6s pid %-7d %s -> %s  fd %d  SO_PROTOCOL=%d (%s)  TCP_IS_MPTCP=%d", role, pid,
                s.getLocalAddress(), s.getRemoteAddress(), fd, protocol, protocol == LibC.IPPROTO_MPTCP ? "MPTCP" : "TCP", isMptcp);
    }
}
