package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test application driven line by line on stdin, for status and counter tests; every socket stays open until "exit".
 * <ul>
 *   <li>{@code listen} → opens a ServerSocket on loopback, prints {@code LISTEN <port>}, accepts in the background
 *       and prints {@code ACCEPTED <remote port>} per connection (the accepted socket is kept);</li>
 *   <li>{@code connect <host> <port>} → connects a Socket (kept), exchanges nothing, prints
 *       {@code CONNECTED <local port>} or {@code EXCEPTION ...};</li>
 *   <li>{@code oob} → setOOBInline(true) on the socket connected last, prints {@code OOB ok <read back>} or
 *       {@code OOB EXCEPTION ...};</li>
 *   <li>{@code jmx} → creates the platform MBean server, waits up to 20 s for {@code mptcp.agent:type=Agent} and
 *       prints {@code JMX name=value ...} of its counters (or {@code JMX missing}), then {@code JMXSTATUS <line>}
 *       per line of its {@code status()} operation, {@code JMXUNKNOWN <what reading an unknown attribute gave>} and
 *       {@code JMXEND};</li>
 *   <li>{@code send <bytes>} → a loopback listener of its own, one connection to it that carries that many bytes
 *       (read to the end by the accepted side), both ends closed; prints {@code SENT <bytes>};</li>
 *   <li>{@code exit} → closes everything and exits.</li>
 * </ul>
 */
public final class PeerApp {
    private static final List<AutoCloseable> KEEP = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("STARTED");
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.trim().split(" ");
            try {
                switch (w[0]) {
                    case "listen":
                        listen();
                        break;
                    case "connect":
                        Socket s = new Socket();
                        s.connect(new InetSocketAddress(InetAddress.getByName(w[1]), Integer.parseInt(w[2])), 10_000);
                        keep(s);
                        System.out.println("CONNECTED " + s.getLocalPort());
                        break;
                    case "oob": // setOOBInline(true) on the socket connected last
                        Socket last;
                        synchronized (KEEP) {
                            last = (Socket) KEEP.get(KEEP.size() - 1);
                        }
                        try {
                            last.setOOBInline(true);
                            System.out.println("OOB ok " + last.getOOBInline());
                        } catch (java.io.IOException e) {
                            System.out.println("OOB EXCEPTION " + e);
                        }
                        break;
                    case "jmx":
                        jmx();
                        break;
                    case "send":
                        send(Integer.parseInt(w[1]));
                        break;
                    case "exit":
                        synchronized (KEEP) {
                            for (AutoCloseable c : KEEP) {
                                c.close();
                            }
                        }
                        System.exit(0);
                        break;
                    default:
                        System.out.println("EXCEPTION unknown command " + line);
                }
            } catch (Exception e) {
                System.out.println("EXCEPTION " + e);
            }
            System.out.flush();
        }
    }

    private static void listen() throws Exception {
        ServerSocket server = keep(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    Socket a = keep(server.accept());
                    System.out.println("ACCEPTED " + a.getPort());
                    System.out.flush();
                }
            } catch (Exception e) {
                // closed
            }
        }, "acceptor");
        t.setDaemon(true);
        t.start();
        System.out.println("LISTEN " + server.getLocalPort());
    }

    private static void send(int bytes) throws Exception {
        long got = 0;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            client.getOutputStream().write(new byte[bytes]);
            client.shutdownOutput();
            byte[] buffer = new byte[65536];
            for (int n; (n = accepted.getInputStream().read(buffer)) > 0; ) {
                got += n;
            }
        }
        System.out.println("SENT " + got); // both ends closed
    }

    private static void jmx() throws Exception {
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName name = new javax.management.ObjectName("mptcp.agent:type=Agent");
        long end = System.nanoTime() + 20_000_000_000L;
        while (!server.isRegistered(name) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        if (!server.isRegistered(name)) {
            System.out.println("JMX missing");
            return;
        }
        StringBuilder b = new StringBuilder("JMX");
        for (String a : new String[] {"connections_mptcp", "connections_tcp", "sockets_mptcp", "mptcp_available", "version"}) {
            b.append(' ').append(a).append('=').append(server.getAttribute(name, a));
        }
        System.out.println(b);
        // the operation status(): the text of "status <pid>", one line per output line
        for (String l : String.valueOf(server.invoke(name, "status", new Object[0], new String[0])).split("\n")) {
            System.out.println("JMXSTATUS " + l);
        }
        try {
            System.out.println("JMXUNKNOWN " + server.getAttribute(name, "no_such_counter"));
        } catch (javax.management.AttributeNotFoundException e) {
            System.out.println("JMXUNKNOWN " + e.getClass().getSimpleName());
        }
        System.out.println("JMXEND");
    }

    private static <T extends AutoCloseable> T keep(T c) {
        synchronized (KEEP) {
            KEEP.add(c);
        }
        return c;
    }
}
