package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;

/**
 * Test application: opens a listener and a connected pair with one JDK networking API, exchanges data both ways,
 * prints {@code OK <api>} (or {@code EXCEPTION <class>: <message>}), then {@code READY} and keeps every socket open
 * until a line or EOF arrives on stdin. The test reads the sockets' protocol from the kernel meanwhile.
 *
 * <p>Usage: {@code SocketApp [--deny-mptcp] [--pre-listener] <api>...}; with --deny-mptcp it first installs a
 * seccomp filter that fails MPTCP socket creation with EPERM ({@link Seccomp}); with --pre-listener it first opens a
 * ServerSocket, prints {@code PRELISTEN <port>} and waits for a line on stdin before going on (for attach tests).
 */
public final class SocketApp {
    private static final List<AutoCloseable> KEEP = new ArrayList<>();
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int first = 0;
        if (args[0].equals("--deny-mptcp")) {
            Seccomp.denyMptcpSockets();
            System.out.println("SECCOMP socket(IPPROTO_MPTCP) -> EPERM");
            first = 1;
        }
        if (args[first].equals("--pre-listener")) {
            ServerSocket pre = new ServerSocket(0, 50, LOOPBACK);
            KEEP.add(pre);
            System.out.println("PRELISTEN " + pre.getLocalPort());
            System.out.flush();
            in.readLine();
            first++;
        }
        for (int i = first; i < args.length; i++) {
            try {
                run(args[i]);
                System.out.println("OK " + args[i]);
            } catch (Throwable t) {
                System.out.println("EXCEPTION " + t);
            }
        }
        System.out.println("READY");
        System.out.flush();
        in.readLine();
        for (AutoCloseable c : KEEP) {
            c.close();
        }
        System.exit(0);
    }

    static void run(String api) throws Exception {
        switch (api) {
            case "socket": socket(); break;
            case "channel": channel(null, LOOPBACK); break;
            case "channel-inet": channel(StandardProtocolFamily.INET, InetAddress.getByName("127.0.0.1")); break;
            case "channel-inet6": channel(StandardProtocolFamily.INET6, InetAddress.getByName("::1")); break;
            case "async": async(); break;
            case "http": http(false); break;
            case "urlconnection": http(true); break;
            case "virtual": virtual(); break;
            case "options": options(); break;
            default: throw new IllegalArgumentException("unknown api " + api);
        }
    }

    static void socket() throws Exception {
        ServerSocket server = keep(new ServerSocket(0, 50, LOOPBACK));
        Socket client = keep(new Socket(LOOPBACK, server.getLocalPort()));
        Socket accepted = keep(server.accept());
        pingPong(client.getOutputStream(), accepted.getInputStream());
        pingPong(accepted.getOutputStream(), client.getInputStream());
    }

    static void channel(StandardProtocolFamily family, InetAddress address) throws Exception {
        ServerSocketChannel server = keep(family == null ? ServerSocketChannel.open() : ServerSocketChannel.open(family));
        server.bind(new InetSocketAddress(address, 0));
        SocketChannel client = keep(family == null ? SocketChannel.open() : SocketChannel.open(family));
        client.connect(server.getLocalAddress());
        SocketChannel accepted = keep(server.accept());
        client.write(ByteBuffer.wrap(new byte[] {42}));
        ByteBuffer b = ByteBuffer.allocate(1);
        accepted.read(b);
        if (b.get(0) != 42) {
            throw new IllegalStateException("wrong byte");
        }
        accepted.write(ByteBuffer.wrap(new byte[] {43}));
        b.clear();
        client.read(b);
        if (b.get(0) != 43) {
            throw new IllegalStateException("wrong byte");
        }
    }

    static void async() throws Exception {
        AsynchronousServerSocketChannel server = keep(AsynchronousServerSocketChannel.open());
        server.bind(new InetSocketAddress(LOOPBACK, 0));
        AsynchronousSocketChannel client = keep(AsynchronousSocketChannel.open());
        var accept = server.accept();
        client.connect(server.getLocalAddress()).get(10, TimeUnit.SECONDS);
        AsynchronousSocketChannel accepted = keep(accept.get(10, TimeUnit.SECONDS));
        client.write(ByteBuffer.wrap(new byte[] {42})).get(10, TimeUnit.SECONDS);
        ByteBuffer b = ByteBuffer.allocate(1);
        accepted.read(b).get(10, TimeUnit.SECONDS);
        if (b.get(0) != 42) {
            throw new IllegalStateException("wrong byte");
        }
    }

    static void http(boolean urlConnection) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 50);
        server.createContext("/", exchange -> {
            byte[] body = "pong".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        // "/hold": the body's first bytes, then the response stays unfinished until the app ends, so the client's
        // connection stays in use (not in HttpURLConnection's keep-alive cache, which closes idle ones after ~5 s)
        // until the test has read the sockets from the kernel
        java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
        server.createContext("/hold", exchange -> {
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write("pong".getBytes(StandardCharsets.UTF_8));
            out.flush();
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        java.util.concurrent.ExecutorService handlers = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-handler");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(handlers);
        server.start();
        KEEP.add(() -> {
            end.countDown();
            server.stop(0);
            handlers.shutdownNow();
        });
        URI uri = URI.create("http://" + LOOPBACK.getHostAddress() + ":" + server.getAddress().getPort() + "/");
        String body;
        if (urlConnection) {
            HttpURLConnection c = (HttpURLConnection) uri.resolve("/hold").toURL().openConnection();
            InputStream s = c.getInputStream();
            body = new String(s.readNBytes(4), StandardCharsets.UTF_8);
            KEEP.add(c::disconnect); // closed at the end (before the server, KEEP closes in order)
        } else {
            HttpClient client = HttpClient.newHttpClient();
            body = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
        if (!body.equals("pong")) {
            throw new IllegalStateException("wrong body " + body);
        }
    }

    /** java.net sockets used from virtual threads (JDK 21+), through reflection so this compiles for 17. */
    static void virtual() throws Exception {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        Class<?> builderType = Class.forName("java.lang.Thread$Builder");
        Throwable[] failure = new Throwable[1];
        Runnable body = () -> {
            try {
                socket();
            } catch (Throwable t) {
                failure[0] = t;
            }
        };
        Thread t = (Thread) builderType.getMethod("start", Runnable.class).invoke(builder, body);
        t.join();
        if (!(Boolean) Thread.class.getMethod("isVirtual").invoke(t)) {
            throw new IllegalStateException("not a virtual thread");
        }
        if (failure[0] != null) {
            throw new Exception(failure[0]);
        }
    }

    /**
     * Two connections to one listener: the first client calls setOOBInline(true) before connecting (compat turns it
     * into plain TCP: an option conversion), the second after connecting (emulated on the MPTCP connection: an option
     * deviation). Prints {@code OPTIONS <converted client's local port> <emulated client's local port>}.
     */
    static void options() throws Exception {
        ServerSocket server = keep(new ServerSocket(0, 50, LOOPBACK));
        Socket converted = keep(new Socket());
        converted.setOOBInline(true);
        converted.connect(server.getLocalSocketAddress());
        keep(server.accept());
        Socket emulated = keep(new Socket(LOOPBACK, server.getLocalPort()));
        keep(server.accept());
        emulated.setOOBInline(true);
        if (!converted.getOOBInline() || !emulated.getOOBInline()) {
            throw new IllegalStateException("SO_OOBINLINE does not read back");
        }
        System.out.println("OPTIONS " + converted.getLocalPort() + " " + emulated.getLocalPort());
    }

    private static void pingPong(OutputStream out, InputStream in) throws Exception {
        out.write(42);
        out.flush();
        if (in.read() != 42) {
            throw new IllegalStateException("wrong byte");
        }
    }

    private static <T extends AutoCloseable> T keep(T c) {
        KEEP.add(c);
        return c;
    }
}
