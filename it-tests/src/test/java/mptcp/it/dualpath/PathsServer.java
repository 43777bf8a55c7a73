package mptcp.it.dualpath;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The HTTP server of {@link MetricsIT} (JDK's com.sun.net.httpserver, run under the agent and the jmx_exporter java
 * agent): {@code GET /data/N} answers N bytes of the {@link Pattern} with a Content-Length, printing
 * {@code served K} at each MiB written and {@code done N} at the end; {@code GET /hold} prints {@code holding} and
 * answers once a {@code release} line arrives on standard input (so that a client's connection stays open, idle,
 * after a download). Prints {@code listening PORT} once it accepts.
 *
 * <pre>PathsServer ADDRESS PORT</pre>
 */
public final class PathsServer {
    private PathsServer() {
    }

    public static void main(String[] args) throws Exception {
        Semaphore released = new Semaphore(0);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(args[0]),
                Integer.parseInt(args[1])), 50);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/data/", ex -> data(ex));
        server.createContext("/hold", ex -> {
            System.out.println("holding");
            try {
                released.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(ex, "released\n".getBytes(StandardCharsets.UTF_8));
        });
        server.start();
        System.out.println("listening " + server.getAddress().getPort());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null;) {
            if (line.equals("release")) {
                released.release();
            }
        }
        server.stop(0);
        System.exit(0);
    }

    private static void data(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        long n = Long.parseLong(path.substring(path.lastIndexOf('/') + 1));
        ex.sendResponseHeaders(200, n);
        byte[] b = new byte[65536];
        long sent = 0;
        long mib = 1 << 20;
        try (OutputStream out = ex.getResponseBody()) {
            while (sent < n) {
                int len = (int) Math.min(b.length, n - sent);
                Pattern.fill(b, len, sent);
                out.write(b, 0, len);
                if ((sent + len) / mib > sent / mib) {
                    System.out.println("served " + (sent + len));
                }
                sent += len;
            }
        }
        System.out.println("done " + sent);
    }

    private static void answer(HttpExchange ex, byte[] body) throws IOException {
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
