package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Test application that needs nothing but {@code java.base} (for jlink'd runtimes) and no permission beyond sockets
 * (for a security manager), driven line by line on stdin; every socket stays open until {@code exit}.
 * <ul>
 *   <li>{@code socket} → a loopback {@code ServerSocket}, a {@code Socket} connected to it and the accepted one;
 *       prints {@code PAIR <listener port>} or {@code EXCEPTION ...};</li>
 *   <li>{@code channel} → the same with {@code ServerSocketChannel} and {@code SocketChannel};</li>
 *   <li>{@code exit} → closes everything and exits 0.</li>
 * </ul>
 * Prints {@code STARTED} first.
 */
public final class BaseApp {
    private static final List<AutoCloseable> KEEP = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("STARTED");
        InetAddress lo = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        for (String line; (line = in.readLine()) != null; ) {
            try {
                switch (line.trim()) {
                    case "socket": {
                        ServerSocket server = keep(new ServerSocket(0, 50, lo));
                        Socket client = keep(new Socket());
                        client.setTcpNoDelay(true);
                        client.connect(new InetSocketAddress(lo, server.getLocalPort()), 10_000);
                        keep(server.accept());
                        System.out.println("PAIR " + server.getLocalPort());
                        break;
                    }
                    case "channel": {
                        ServerSocketChannel server = keep(ServerSocketChannel.open());
                        server.bind(new InetSocketAddress(lo, 0));
                        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
                        keep(SocketChannel.open(new InetSocketAddress(lo, port)));
                        keep(server.accept());
                        System.out.println("PAIR " + port);
                        break;
                    }
                    case "exit":
                        for (AutoCloseable c : KEEP) {
                            c.close();
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

    private static <T extends AutoCloseable> T keep(T c) {
        KEEP.add(c);
        return c;
    }
}
