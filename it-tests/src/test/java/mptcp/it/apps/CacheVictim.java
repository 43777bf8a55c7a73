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

/**
 * Test application for the class cache, made of JDK classes only (it runs as other uids, from a copy of its class
 * files): with {@code wait}, prints {@code STARTED} and waits for a line on stdin before its first socket (the
 * agent has checked its cache directory by then); then opens a listener and a connected pair with
 * {@code java.net.Socket} (NioSocketImpl) and one with NIO channels (SocketChannelImpl, ServerSocketChannelImpl),
 * all through {@code sun.nio.ch.Net}, prints {@code READY} and keeps them open until a line or EOF on stdin.
 * Also an empty Java agent ({@link #premain}).
 */
public final class CacheVictim {
    private CacheVictim() {
    }

    /** As a -javaagent, this class is the empty agent: the floor any Java agent adds (one more jar held open). */
    public static void premain(String args) {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args.length > 0 && args[0].equals("wait")) {
            System.out.println("STARTED");
            System.out.flush();
            in.readLine();
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = new ServerSocket(0, 50, loopback);
             Socket client = new Socket(loopback, server.getLocalPort());
             Socket accepted = server.accept();
             ServerSocketChannel channelServer = ServerSocketChannel.open()) {
            channelServer.bind(new InetSocketAddress(loopback, 0));
            try (SocketChannel channelClient = SocketChannel.open(channelServer.getLocalAddress());
                 SocketChannel channelAccepted = channelServer.accept()) {
                client.getOutputStream().write(1);
                if (accepted.getInputStream().read() != 1 || !channelClient.isConnected() || channelAccepted == null) {
                    throw new IllegalStateException("no data");
                }
                System.out.println("READY");
                System.out.flush();
                in.readLine();
            }
        }
        System.exit(0);
    }
}
