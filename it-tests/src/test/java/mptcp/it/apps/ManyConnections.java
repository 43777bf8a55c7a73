package mptcp.it.apps;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Many open TCP connections, for the status report's memory bound. {@code serve ADDRESS N}: a listener on ADDRESS
 * (port printed as {@code LISTEN port}) that accepts N connections and keeps them open, then prints {@code READY n};
 * {@code connect ADDRESS PORT N}: N connections to it, kept open, then {@code READY n}. Both exit at the end of stdin.
 * (Two processes, because one process may have at most {@code ulimit -n} fds, 20,000 on the test machine.)
 */
public final class ManyConnections {
    public static void main(String[] args) throws Exception {
        List<Socket> open = new ArrayList<>();
        if (args[0].equals("serve")) {
            int n = Integer.parseInt(args[2]);
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(args[1]), 0), 4096);
            System.out.println("LISTEN " + server.getLocalPort());
            System.out.flush();
            while (open.size() < n) {
                open.add(server.accept());
            }
        } else {
            InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
            int n = Integer.parseInt(args[3]);
            while (open.size() < n) {
                Socket s = new Socket();
                s.connect(to);
                open.add(s);
            }
        }
        System.out.println("READY " + open.size());
        System.out.flush();
        while (System.in.read() >= 0) {
            // keep them open
        }
    }
}
