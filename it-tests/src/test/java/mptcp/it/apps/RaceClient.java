package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The client of the connect-race tests: dials HTTP servers with one JDK API and prints, per dial,
 * {@code DIAL <address> <microseconds> <body>} (or {@code DIAL <address> <microseconds> FAIL <exception>}); the time
 * covers the connect and the exchange. First {@code ROUNDS} rounds, each dialling the given addresses in order, then
 * {@code ROUNDS DONE}; then one command per stdin line: {@code dial ADDRESS} dials once more, {@code bye} exits;
 * {@code abort interrupt|close|socket-close ADDRESS} starts a blocking connect (a {@code SocketChannel}; a
 * {@code Socket} for socket-close) on another thread, interrupts that thread or closes the channel/socket after 600 ms,
 * and prints {@code ABORTED <exception class>} and then {@code SOCKETS <n>} (this process's socket fds but Unix-domain
 * ones, 500 ms later);
 * {@code timeout MILLIS ADDRESS} runs {@code Socket.connect(address, MILLIS)} and prints
 * {@code TIMEOUT <milliseconds> <exception class or CONNECTED>}.
 * <pre>RaceClient API PORT ROUNDS ADDRESS...</pre>
 * API: socket ({@code Socket.connect} without a timeout), socket-timeout (with 5 s), channel (non-blocking
 * {@code SocketChannel} and a {@code Selector}), async ({@code AsynchronousSocketChannel}), http (java.net.http's
 * {@code HttpClient}), url ({@code HttpURLConnection}), netty-epoll (a Netty {@code Bootstrap} on the epoll transport,
 * one event loop), vthread (socket's exchange on a virtual thread, JDK 21+: non-blocking connect, the JDK's poller).
 */
public final class RaceClient {
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static HttpClient http;

    private RaceClient() {
    }

    public static void main(String[] args) throws Exception {
        String api = args[0];
        int port = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        for (int i = 0; i < rounds; i++) {
            for (int k = 3; k < args.length; k++) {
                dial(api, args[k], port);
            }
        }
        System.out.println("ROUNDS DONE");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("bye"); ) {
            String[] w = line.trim().split(" ");
            if (w[0].equals("dial")) {
                dial(api, w[1], port);
            } else if (w[0].equals("abort")) {
                abort(w[1], new InetSocketAddress(w[2], port));
            } else if (w[0].equals("timeout")) {
                long start = System.nanoTime();
                String result = "CONNECTED";
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(w[2], port), Integer.parseInt(w[1]));
                } catch (Throwable t) {
                    result = t.getClass().getName();
                }
                System.out.println("TIMEOUT " + (System.nanoTime() - start) / 1_000_000 + " " + result);
                System.out.flush();
            } else if (w[0].equals("sockets")) {
                System.out.println("SOCKETS " + sockets());
                System.out.flush();
            }
        }
        System.exit(0);
    }

    /** A blocking connect on another thread, interrupted or closed under it after 600 ms. */
    private static void abort(String how, InetSocketAddress to) throws Exception {
        String[] result = {"none"};
        SocketChannel channel = how.equals("socket-close") ? null : SocketChannel.open();
        Socket socket = how.equals("socket-close") ? new Socket() : null;
        Thread t = new Thread(() -> {
            try {
                if (channel != null) {
                    channel.connect(to);
                } else {
                    socket.connect(to);
                }
                result[0] = "CONNECTED";
            } catch (Throwable e) {
                result[0] = e.getClass().getName();
            }
        });
        t.start();
        Thread.sleep(600);
        if (how.equals("interrupt")) {
            t.interrupt();
        } else if (channel != null) {
            channel.close();
        } else {
            socket.close();
        }
        t.join(10_000);
        System.out.println("ABORTED " + result[0]);
        Thread.sleep(500);
        System.out.println("SOCKETS " + sockets());
        System.out.flush();
    }

    /**
     * Socket fds of this process (/proc/self/fd), Unix-domain ones left out (the JDK keeps one of its own, for closing
     * channels, from the first close on).
     */
    private static int sockets() throws IOException {
        java.util.Set<String> unix = new java.util.HashSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/net/unix"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 6) {
                unix.add("socket:[" + f[6] + "]");
            }
        }
        int n = 0;
        try (java.nio.file.DirectoryStream<java.nio.file.Path> fds = java.nio.file.Files.newDirectoryStream(
                java.nio.file.Paths.get("/proc/self/fd"))) {
            for (java.nio.file.Path fd : fds) {
                try {
                    String link = java.nio.file.Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:") && !unix.contains(link)) {
                        n++;
                    }
                } catch (IOException ignored) {
                    // closed meanwhile
                }
            }
        }
        return n;
    }

    private static void dial(String api, String address, int port) {
        long start = System.nanoTime();
        String result;
        try {
            result = body(exchange(api, new InetSocketAddress(address, port)));
        } catch (Throwable t) {
            result = "FAIL " + t;
        }
        System.out.println("DIAL " + address + " " + (System.nanoTime() - start) / 1000 + " " + result);
        System.out.flush();
    }

    /** The body of an HTTP response ("hello"), or the whole text when there is no head. */
    private static String body(String response) {
        int head = response.indexOf("\r\n\r\n");
        return (head >= 0 ? response.substring(head + 4) : response).trim();
    }

    private static String exchange(String api, InetSocketAddress to) throws Exception {
        switch (api) {
            case "socket":
            case "socket-timeout":
                try (Socket s = new Socket()) {
                    if (api.equals("socket")) {
                        s.connect(to);
                    } else {
                        s.connect(to, 5000);
                    }
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(REQUEST);
                    return readAll(s.getInputStream());
                }
            case "channel":
                return channel(to);
            case "async":
                try (AsynchronousSocketChannel c = AsynchronousSocketChannel.open()) {
                    c.connect(to).get(10, TimeUnit.SECONDS);
                    c.write(ByteBuffer.wrap(REQUEST)).get(10, TimeUnit.SECONDS);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    while (c.read(b).get(10, TimeUnit.SECONDS) > 0) {
                        out.write(b.array(), 0, b.position());
                        b.clear();
                    }
                    return out.toString(StandardCharsets.US_ASCII);
                }
            case "http":
                if (http == null) {
                    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                }
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(to)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 ? r.body() : "status " + r.statusCode();
            case "url":
                HttpURLConnection u = (HttpURLConnection) uri(to).toURL().openConnection();
                u.setRequestProperty("Connection", "close");
                try (InputStream in = u.getInputStream()) {
                    return readAll(in);
                } finally {
                    u.disconnect();
                }
            case "netty-epoll":
                return NettyDial.exchange(to, REQUEST);
            case "vthread":
                return onVirtualThread(to);
            default:
                throw new IllegalArgumentException("unknown api " + api);
        }
    }

    /** The socket exchange on a virtual thread (JDK 21+, reached by reflection: compiled for 17). */
    private static String onVirtualThread(InetSocketAddress to) throws Exception {
        String[] result = new String[1];
        Throwable[] failure = new Throwable[1];
        Runnable r = () -> {
            try {
                result[0] = exchange("socket", to);
            } catch (Throwable t) {
                failure[0] = t;
            }
        };
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        Thread t = (Thread) Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class)
                .invoke(builder, r);
        if (!(boolean) Thread.class.getMethod("isVirtual").invoke(t)) {
            throw new IllegalStateException("not a virtual thread");
        }
        t.start();
        t.join(20_000);
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        return result[0];
    }

    private static URI uri(InetSocketAddress to) {
        return URI.create("http://" + to.getAddress().getHostAddress() + ":" + to.getPort() + "/");
    }

    /** Non-blocking: connect, OP_CONNECT and finishConnect, write, OP_READ until EOF: the way event loops do it. */
    private static String channel(InetSocketAddress to) throws IOException {
        try (SocketChannel c = SocketChannel.open(); Selector selector = Selector.open()) {
            c.configureBlocking(false);
            boolean connected = c.connect(to);
            c.register(selector, connected ? SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT);
            ByteBuffer request = ByteBuffer.wrap(REQUEST);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(4096);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() - end < 0) {
                selector.select(1000);
                for (SelectionKey k : selector.selectedKeys()) {
                    if (k.isConnectable() && c.finishConnect()) {
                        k.interestOps(SelectionKey.OP_WRITE);
                    } else if (k.isWritable()) {
                        c.write(request);
                        if (!request.hasRemaining()) {
                            k.interestOps(SelectionKey.OP_READ);
                        }
                    } else if (k.isReadable()) {
                        int n = c.read(b);
                        if (n < 0) {
                            return out.toString(StandardCharsets.US_ASCII);
                        }
                        out.write(b.array(), 0, b.position());
                        b.clear();
                    }
                }
                selector.selectedKeys().clear();
            }
            throw new IOException("no answer within 10 s");
        }
    }

    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    /** The Netty client (a class of its own: Netty's classes are loaded only by the netty-epoll api). */
    private static final class NettyDial {
        private static io.netty.channel.EventLoopGroup group;

        static String exchange(InetSocketAddress to, byte[] request) throws Exception {
            if (group == null) {
                group = new io.netty.channel.epoll.EpollEventLoopGroup(1);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            java.util.concurrent.CompletableFuture<String> done = new java.util.concurrent.CompletableFuture<>();
            io.netty.bootstrap.Bootstrap b = new io.netty.bootstrap.Bootstrap().group(group)
                    .channel(io.netty.channel.epoll.EpollSocketChannel.class)
                    .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                            ctx.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(request));
                        }

                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            io.netty.buffer.ByteBuf buf = (io.netty.buffer.ByteBuf) msg;
                            byte[] bytes = new byte[buf.readableBytes()];
                            buf.readBytes(bytes);
                            buf.release();
                            out.write(bytes, 0, bytes.length);
                        }

                        @Override
                        public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
                            done.complete(out.toString(StandardCharsets.US_ASCII));
                        }

                        @Override
                        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                            done.completeExceptionally(cause);
                            ctx.close();
                        }
                    });
            io.netty.channel.ChannelFuture f = b.connect(to);
            f.addListener(x -> {
                if (!x.isSuccess()) {
                    done.completeExceptionally(x.cause());
                }
            });
            return done.get(15, TimeUnit.SECONDS);
        }
    }
}
