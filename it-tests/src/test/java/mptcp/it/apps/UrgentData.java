package mptcp.it.apps;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * Test application for urgent data.
 * <ul>
 *   <li>{@code serve}: listens on 127.0.0.1, prints {@code PORT <n>}, accepts one connection and prints
 *       {@code GOT [bytes]} with everything received (SO_OOBINLINE off: urgent bytes are not part of the stream).</li>
 *   <li>{@code send <port> socket|channel [oobinline]}: connects to 127.0.0.1:port, writes "ab", sends urgent byte 1,
 *       writes "cd", and prints {@code URGENT ok} or {@code URGENT <exception class>: <message>}, then {@code SENT}.</li>
 * </ul>
 */
public final class UrgentData {
    public static void main(String[] args) throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        if (args[0].equals("serve")) {
            try (ServerSocket ss = new ServerSocket(0, 1, loopback)) {
                System.out.println("PORT " + ss.getLocalPort());
                try (Socket s = ss.accept()) {
                    System.out.println("GOT " + Arrays.toString(readAll(s.getInputStream())));
                }
            }
            return;
        }
        InetSocketAddress to = new InetSocketAddress(loopback, Integer.parseInt(args[1]));
        Socket s = args[2].equals("channel") ? SocketChannel.open(to).socket() : new Socket();
        if (args.length > 3) {
            s.setOOBInline(true);
        }
        if (!s.isConnected()) {
            s.connect(to, 5000);
        }
        try (s) {
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {'a', 'b'});
            out.flush();
            try {
                s.sendUrgentData(1);
                System.out.println("URGENT ok");
            } catch (Exception e) {
                System.out.println("URGENT " + e.getClass().getName() + ": " + e.getMessage());
            }
            out.write(new byte[] {'c', 'd'});
            out.flush();
        }
        System.out.println("SENT");
    }

    public static byte[] readAll(InputStream in) throws Exception {
        return in.readAllBytes();
    }
}
