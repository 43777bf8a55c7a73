package mptcp.it.servers;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A service of the fleet tests, started without the agent: a {@code ServerSocket} on ADDRESS PORT accepting on a
 * platform thread, one thread per connection speaking just enough HTTP/1.1 keep-alive for {@link FleetClient} ("ok"
 * bodies). Needs nothing but the JDK and this class, so that another user (or a "container" that sees little of this
 * machine) can run it from a copy: hence its own copy of {@link ListenerApp}'s few lines of HTTP (ListenerApp itself
 * links Netty, Jetty and Tomcat). Prints {@code LISTEN port}, then {@code READY}; exits on {@code bye} or end of stdin.
 * <pre>FleetService ADDRESS PORT</pre>
 */
public final class FleetService {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])), 200);
        System.out.println("LISTEN " + server.getLocalPort());
        Thread acceptor = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (Exception e) {
                    continue;
                }
                Thread t = new Thread(() -> serve(s));
                t.setDaemon(true);
                t.start();
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        System.out.println("READY");
        System.out.flush();
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("bye"); ) {
            // wait
        }
        System.exit(0);
    }

    private static void serve(Socket s) {
        try (Socket c = s) {
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            int state = 0; // bytes of "\r\n\r\n" matched
            for (int b; (b = in.read()) >= 0; ) {
                state = b == (state % 2 == 0 ? '\r' : '\n') ? state + 1 : (b == '\r' ? 1 : 0);
                if (state == 4) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    state = 0;
                }
            }
        } catch (Exception e) {
            // client gone
        }
    }
}
