package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Test application for the connection rules. Every connection carries one HTTP/1.1 exchange whose response body is
 * the client's address as the server sees it ({@code ip:port}), so each client learns its own port, whatever the API.
 * All sockets stay open until a line (or EOF) arrives on stdin.
 * <ul>
 *   <li>{@code server HOST PORT...}: listens on HOST:PORT for each PORT (ServerSocketChannel), prints
 *       {@code LISTEN <port>} for each, then {@code READY}; answers every request on every connection.</li>
 *   <li>{@code client API[,API...] HOST:PORT...}: for each API (socket, channel, async, http) and each target,
 *       connects and exchanges a request; prints {@code CONN <api> <target> <local port>} or
 *       {@code FAIL <api> <target> <exception>}, then {@code READY}. IPv6 targets are written [addr]:port.</li>
 *   <li>{@code options HOST PORT}: a SocketChannel and a Socket that set options, bind to a free port on the wildcard
 *       and (the channel) go non-blocking before connecting to HOST:PORT; prints {@code BEFORE <kind> <options>} and
 *       {@code AFTER <kind> <options>} (read back through the JDK, i.e. getsockopt), {@code NONBLOCKING <true|false>}
 *       (a read with no data returns at once), {@code CONN <kind> <local port>}, then {@code READY}.</li>
 * </ul>
 */
public final class RulesApp {
    private static final List<AutoCloseable> KEEP = new ArrayList<>();
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: rules\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "server":
                for (int i = 2; i < args.length; i++) {
                    listen(args[1], Integer.parseInt(args[i]));
                }
                break;
            case "client":
                for (String api : args[1].split(",")) {
                    for (int i = 2; i < args.length; i++) {
                        try {
                            System.out.println("CONN " + api + " " + args[i] + " " + client(api, args[i]));
                        } catch (Throwable t) {
                            System.out.println("FAIL " + api + " " + args[i] + " " + t);
                        }
                    }
                }
                break;
            case "options":
                options(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])));
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
        System.out.println("READY");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        for (AutoCloseable c : KEEP) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing
            }
        }
        System.exit(0);
    }

    private static void listen(String host, int port) throws Exception {
        ServerSocketChannel server = keep(ServerSocketChannel.open());
        server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        System.out.println("LISTEN " + ((InetSocketAddress) server.getLocalAddress()).getPort());
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    SocketChannel s = keep(server.accept());
                    Thread h = new Thread(() -> serve(s));
                    h.setDaemon(true);
                    h.start();
                } catch (Exception e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** Answers each request (up to an empty line) with the peer's address as the body. */
    private static void serve(SocketChannel s) {
        try {
            InetSocketAddress peer = (InetSocketAddress) s.getRemoteAddress();
            byte[] body = (peer.getAddress().getHostAddress() + ":" + peer.getPort()).getBytes(StandardCharsets.US_ASCII);
            byte[] response = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n" + new String(body, StandardCharsets.US_ASCII))
                    .getBytes(StandardCharsets.US_ASCII);
            ByteBuffer in = ByteBuffer.allocate(4096);
            StringBuilder seen = new StringBuilder();
            while (s.read(in) > 0) {
                in.flip();
                seen.append(StandardCharsets.US_ASCII.decode(in));
                in.clear();
                int end;
                while ((end = seen.indexOf("\r\n\r\n")) >= 0) {
                    seen.delete(0, end + 4);
                    s.write(ByteBuffer.wrap(response));
                }
            }
        } catch (Exception ignored) {
            // peer gone
        }
    }

    /** Connects with {@code api} to {@code target}, exchanges one request; returns the local port the server saw. */
    private static int client(String api, String target) throws Exception {
        int colon = target.lastIndexOf(':');
        String host = target.substring(0, colon).replace("[", "").replace("]", "");
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(target.substring(colon + 1)));
        String body;
        switch (api) {
            case "socket": {
                Socket s = keep(new Socket(to.getAddress(), to.getPort()));
                body = exchange(s.getOutputStream(), s.getInputStream());
                break;
            }
            case "channel": {
                SocketChannel c = keep(SocketChannel.open(to));
                body = exchange(c.socket().getOutputStream(), c.socket().getInputStream());
                break;
            }
            case "async": {
                AsynchronousSocketChannel c = keep(AsynchronousSocketChannel.open());
                c.connect(to).get(10, TimeUnit.SECONDS);
                c.write(ByteBuffer.wrap(REQUEST)).get(10, TimeUnit.SECONDS);
                ByteBuffer b = ByteBuffer.allocate(4096);
                StringBuilder r = new StringBuilder();
                while (body(r.toString()) == null) {
                    b.clear();
                    if (c.read(b).get(10, TimeUnit.SECONDS) < 0) {
                        throw new IllegalStateException("EOF");
                    }
                    b.flip();
                    r.append(StandardCharsets.US_ASCII.decode(b));
                }
                body = body(r.toString());
                break;
            }
            case "http": {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                URI uri = URI.create("http://" + target + "/");
                body = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
                HOLD.add(client); // the client, and so its pooled connection, stays reachable
                break;
            }
            default:
                throw new IllegalArgumentException(api);
        }
        return Integer.parseInt(body.substring(body.lastIndexOf(':') + 1));
    }

    private static final List<Object> HOLD = new ArrayList<>();

    private static String exchange(OutputStream out, InputStream in) throws Exception {
        out.write(REQUEST);
        out.flush();
        StringBuilder r = new StringBuilder();
        byte[] b = new byte[4096];
        while (body(r.toString()) == null) {
            int n = in.read(b);
            if (n < 0) {
                throw new IllegalStateException("EOF");
            }
            r.append(new String(b, 0, n, StandardCharsets.US_ASCII));
        }
        return body(r.toString());
    }

    /** The body of a complete response, or null. */
    private static String body(String response) {
        int head = response.indexOf("\r\n\r\n");
        if (head < 0) {
            return null;
        }
        int cl = response.indexOf("Content-Length: ");
        int length = Integer.parseInt(response.substring(cl + 16, response.indexOf("\r\n", cl)));
        return response.length() >= head + 4 + length ? response.substring(head + 4, head + 4 + length) : null;
    }

    private static void options(InetSocketAddress to) throws Exception {
        // a SocketChannel: options, bound to a free port on the wildcard, non-blocking connect
        SocketChannel c = keep(SocketChannel.open());
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        c.setOption(StandardSocketOptions.SO_RCVBUF, 100_000);
        c.setOption(StandardSocketOptions.SO_SNDBUF, 70_000);
        c.setOption(StandardSocketOptions.SO_LINGER, 7);
        c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        c.bind(new InetSocketAddress(0));
        int bound = ((InetSocketAddress) c.getLocalAddress()).getPort();
        System.out.println("BEFORE channel " + options(c) + " port=" + bound);
        c.configureBlocking(false);
        if (!c.connect(to)) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!c.finishConnect()) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("connect timed out");
                }
                Thread.sleep(1);
            }
        }
        System.out.println("AFTER channel " + options(c) + " port=" + ((InetSocketAddress) c.getLocalAddress()).getPort());
        // non-blocking kept: a read with no data waiting returns 0 at once (a blocking fd would wait for data)
        CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
            try {
                return c.read(ByteBuffer.allocate(16));
            } catch (Exception e) {
                return -2;
            }
        });
        Integer n = null;
        try {
            n = read.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            // blocked: the socket lost O_NONBLOCK
        }
        System.out.println("NONBLOCKING " + (n != null && n == 0));
        System.out.println("CONN channel " + ((InetSocketAddress) c.getLocalAddress()).getPort());

        // a Socket, same options through java.net, bound first
        Socket s = keep(new Socket());
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.setReceiveBufferSize(100_000);
        s.setSendBufferSize(70_000);
        s.setSoLinger(true, 7);
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(0));
        System.out.println("BEFORE socket " + options(s) + " port=" + s.getLocalPort());
        s.connect(to, 10_000);
        System.out.println("AFTER socket " + options(s) + " port=" + s.getLocalPort());
        System.out.println("CONN socket " + s.getLocalPort());
    }

    private static String options(SocketChannel c) throws Exception {
        return "nodelay=" + c.getOption(StandardSocketOptions.TCP_NODELAY) + " keepalive=" + c.getOption(StandardSocketOptions.SO_KEEPALIVE)
                + " rcvbuf=" + c.getOption(StandardSocketOptions.SO_RCVBUF) + " sndbuf=" + c.getOption(StandardSocketOptions.SO_SNDBUF)
                + " linger=" + c.getOption(StandardSocketOptions.SO_LINGER) + " reuseaddr=" + c.getOption(StandardSocketOptions.SO_REUSEADDR);
    }

    private static String options(Socket s) throws Exception {
        return "nodelay=" + s.getTcpNoDelay() + " keepalive=" + s.getKeepAlive() + " rcvbuf=" + s.getReceiveBufferSize()
                + " sndbuf=" + s.getSendBufferSize() + " linger=" + s.getSoLinger() + " reuseaddr=" + s.getReuseAddress();
    }

    private static <T extends AutoCloseable> T keep(T c) {
        synchronized (KEEP) {
            KEEP.add(c);
        }
        return c;
    }
}
