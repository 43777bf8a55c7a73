package mptcp.it.apps;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM with many open TCP connections to itself, for the status report's memory bound: a listener on ADDRESS and N
 * connections to it, both ends kept open (2N + 1 sockets), then {@code READY}; exits on end of stdin.
 * <pre>ManyConnections ADDRESS N</pre>
 */
public final class ManyConnections {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), 0), 4096);
        List<Socket> open = new ArrayList<>(2 * n);
        Thread acceptor = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    Socket s = server.accept();
                    synchronized (open) {
                        open.add(s);
                    }
                }
            } catch (Exception e) {
                System.out.println("ACCEPT FAILED " + e);
            }
        });
        acceptor.start();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            s.connect(server.getLocalSocketAddress());
            synchronized (open) {
                open.add(s);
            }
        }
        acceptor.join();
        System.out.println("READY " + open.size());
        System.out.flush();
        System.in.read();
    }
}
