package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A server for the connect-race tests: one listener per port given (on the wildcard address, so the agent makes it
 * MPTCP unless a rule keeps it TCP), a thread per connection. Each connection is printed as it is accepted,
 * {@code ACCEPTED <port> <local address>}, so that a test counts what really reached the application; it then reads an
 * HTTP/1.1 request (up to the blank line) and answers {@code 200 hello}, {@code Connection: close}. Prints
 * {@code READY} once listening; {@code bye} on stdin exits.
 * <pre>CountingServer PORT...</pre>
 */
public final class CountingServer {
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            + "Connection: close\r\n\r\nhello\n").getBytes(StandardCharsets.US_ASCII);

    private CountingServer() {
    }

    public static void main(String[] args) throws Exception {
        for (String p : args) {
            ServerSocket listener = new ServerSocket();
            listener.bind(new InetSocketAddress(Integer.parseInt(p)), 200);
            Thread t = new Thread(() -> accept(listener), "accept-" + p);
            t.setDaemon(true);
            t.start();
        }
        System.out.println("READY");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        System.exit(0);
    }

    private static void accept(ServerSocket listener) {
        for (;;) {
            try {
                Socket s = listener.accept();
                synchronized (CountingServer.class) {
                    System.out.println("ACCEPTED " + listener.getLocalPort() + " " + s.getLocalAddress().getHostAddress());
                    System.out.flush();
                }
                Thread t = new Thread(() -> serve(s), "serve");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            // up to the end of the request head: \r\n\r\n
            int state = 0;
            for (int b; state < 4 && (b = in.read()) >= 0; ) {
                state = b == (state % 2 == 0 ? '\r' : '\n') ? state + 1 : (b == '\r' ? 1 : 0);
            }
            OutputStream out = s.getOutputStream();
            out.write(RESPONSE);
            out.flush();
        } catch (IOException ignored) {
            // the client went away
        }
    }
}
