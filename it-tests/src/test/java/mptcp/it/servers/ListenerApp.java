package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server started WITHOUT the agent, accepting in one of the ways real servers do, for the live listener hand-over
 * tests. It speaks just enough HTTP/1.1 (keep-alive, "ok" bodies) for {@link LoadClient} and curl-like clients.
 * <pre>ListenerApp MODEL ADDRESS PORT [ADDRESS2 PORT2 ...]</pre>
 * A port written with a trailing {@code r} (8082r) gets SO_REUSEPORT from the application itself.
 * MODEL: socket (ServerSocket, blocking accept on a platform thread), timed (the same with SO_TIMEOUT: waits in
 * poll), selector (ServerSocketChannel, OP_ACCEPT on a
 * JDK selector), httpserver (com.sun.net.httpserver), vthread (ServerSocket accepting on a virtual thread, JDK 21+),
 * async (AsynchronousServerSocketChannel), jetty (Jetty 12 ServerConnector: one acceptor thread in a blocking accept), tomcat (embedded Tomcat 11, NIO connector:
 * its acceptor thread blocks in ServerSocketChannel.accept). Prints {@code LISTEN port} per listener, then {@code READY};
 * {@code bye} on stdin exits; prints {@code ACCEPTED n} on {@code count}; {@code pause} (models socket and timed)
 * makes the accept loop accept nothing after the accept under way until {@code resume} ({@code PAUSED}, {@code RESUMED});
 * {@code reopen} closes every listener and
 * opens it again (the naive way to get a new listener, for the benchmark's contrast), then prints
 * {@code REOPENED <ms>}.
 */
public final class ListenerApp {
    private static final AtomicLong ACCEPTED = new AtomicLong();
    private static boolean reusePort;
    /** "pause" / "resume" (models socket and timed): whether the accept loop waits before its next accept. */
    private static final boolean[] PAUSE = new boolean[1];
    /** model, address, the object to close: per listener, for reopen. */
    private static final java.util.List<Object[]> OPEN = new java.util.ArrayList<>();

    public static void main(String[] args) throws Exception {
        String model = args[0];
        if (model.equals("probe")) { // can another socket join this address with SO_REUSEPORT?
            try (ServerSocket ss = new ServerSocket()) {
                ss.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                ss.bind(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])));
                System.out.println("BIND ok");
            } catch (IOException e) {
                System.out.println("BIND refused " + e.getMessage());
            }
            return;
        }
        for (int i = 1; i + 1 < args.length; i += 2) {
            reusePort = args[i + 1].endsWith("r");
            InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(args[i]),
                    Integer.parseInt(args[i + 1].replace("r", "")));
            int port = listen(model, at);
            System.out.println("LISTEN " + port);
        }
        System.out.println("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("bye")) {
                System.exit(0);
            }
            if (line.equals("reopen")) {
                long start = System.nanoTime();
                java.util.List<Object[]> old = new java.util.ArrayList<>(OPEN);
                OPEN.clear();
                for (Object[] l : old) {
                    ((AutoCloseable) l[2]).close();
                    for (int attempt = 0; ; attempt++) { // a listener closed under a parked accept goes a bit later
                        try {
                            listen((String) l[0], (InetSocketAddress) l[1]);
                            break;
                        } catch (java.net.BindException e) {
                            if (attempt == 200) {
                                throw e;
                            }
                            Thread.sleep(5);
                        }
                    }
                }
                System.out.println("REOPENED " + (System.nanoTime() - start) / 1_000_000);
            }
            if (line.equals("pause") || line.equals("resume")) {
                synchronized (PAUSE) {
                    PAUSE[0] = line.equals("pause");
                    PAUSE.notifyAll();
                }
                System.out.println(line.equals("pause") ? "PAUSED" : "RESUMED");
            }
            if (line.equals("count")) {
                System.out.println("ACCEPTED " + ACCEPTED.get());
            }
        }
    }

    private static int listen(String model, InetSocketAddress at) throws Exception {
        switch (model) {
            case "socket": {
                ServerSocket ss = serverSocket(at);
                OPEN.add(new Object[] {model, at, ss});
                daemon(() -> acceptLoop(ss));
                return ss.getLocalPort();
            }
            case "timed": { // accept with SO_TIMEOUT: the thread waits in poll(2), not in accept(2)
                ServerSocket ss = serverSocket(at);
                ss.setSoTimeout(30_000);
                OPEN.add(new Object[] {model, at, ss});
                daemon(() -> acceptLoop(ss));
                return ss.getLocalPort();
            }
            case "vthread": {
                ServerSocket ss = serverSocket(at);
                OPEN.add(new Object[] {model, at, ss});
                Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, (Runnable) () -> {
                    while (true) {
                        try {
                            Socket s = ss.accept();
                            ACCEPTED.incrementAndGet();
                            Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, (Runnable) () -> serve(s));
                        } catch (Exception e) {
                            System.out.println("ACCEPT-ERROR " + e);
                            return;
                        }
                    }
                });
                return ss.getLocalPort();
            }
            case "selector": {
                ServerSocketChannel ch = ServerSocketChannel.open();
                if (reusePort) {
                    ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                }
                ch.bind(at, 128);
                OPEN.add(new Object[] {model, at, ch});
                ch.configureBlocking(false);
                Selector selector = Selector.open();
                ch.register(selector, SelectionKey.OP_ACCEPT);
                daemon(() -> {
                    try {
                        while (true) {
                            selector.select();
                            selector.selectedKeys().clear();
                            for (SocketChannel c; (c = ch.accept()) != null; ) {
                                ACCEPTED.incrementAndGet();
                                c.configureBlocking(true);
                                SocketChannel cc = c;
                                daemon(() -> serve(cc.socket()));
                            }
                        }
                    } catch (IOException e) {
                        System.out.println("ACCEPT-ERROR " + e);
                        try {
                            selector.close(); // a closed channel's fd is released when its selector lets go of it
                        } catch (IOException ignored) {
                            // closing anyway
                        }
                    }
                });
                return ch.socket().getLocalPort();
            }
            case "httpserver": {
                com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(at, 128);
                server.createContext("/", exchange -> {
                    ACCEPTED.incrementAndGet(); // requests, here
                    byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                });
                server.setExecutor(Executors.newFixedThreadPool(8));
                server.start();
                OPEN.add(new Object[] {model, at, (AutoCloseable) () -> server.stop(0)});
                return server.getAddress().getPort();
            }
            case "jetty": {
                ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                        .setLevel(ch.qos.logback.classic.Level.WARN);
                org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
                org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(server);
                connector.setHost(at.getAddress().getHostAddress());
                connector.setPort(at.getPort());
                server.addConnector(connector);
                server.setHandler(new org.eclipse.jetty.server.Handler.Abstract() {
                    @Override
                    public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                          org.eclipse.jetty.util.Callback callback) {
                        ACCEPTED.incrementAndGet(); // requests, here
                        response.setStatus(200);
                        response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_LENGTH, 2);
                        response.write(true, ByteBuffer.wrap("ok".getBytes(StandardCharsets.US_ASCII)), callback);
                        return true;
                    }
                });
                server.start();
                OPEN.add(new Object[] {model, at, (AutoCloseable) server::stop});
                return connector.getLocalPort();
            }
            case "tomcat": {
                java.nio.file.Path base = java.nio.file.Files.createTempDirectory("listener-app-tomcat");
                org.apache.catalina.startup.Tomcat tomcat = new org.apache.catalina.startup.Tomcat();
                tomcat.setBaseDir(base.toString());
                org.apache.catalina.connector.Connector connector = new org.apache.catalina.connector.Connector();
                connector.setPort(at.getPort());
                connector.setProperty("address", at.getAddress().getHostAddress());
                tomcat.setConnector(connector);
                org.apache.catalina.Context context = tomcat.addContext("", base.toString());
                org.apache.catalina.startup.Tomcat.addServlet(context, "ok", new jakarta.servlet.http.HttpServlet() {
                    @Override
                    protected void doGet(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                            throws IOException {
                        ACCEPTED.incrementAndGet(); // requests, here
                        resp.setContentLength(2);
                        resp.getOutputStream().write("ok".getBytes(StandardCharsets.US_ASCII));
                    }
                });
                context.addServletMappingDecoded("/", "ok");
                tomcat.start();
                OPEN.add(new Object[] {model, at, (AutoCloseable) () -> {
                    tomcat.stop();
                    tomcat.destroy();
                }});
                return connector.getLocalPort();
            }
            case "async": {
                AsynchronousServerSocketChannel ch = AsynchronousServerSocketChannel.open().bind(at, 128);
                OPEN.add(new Object[] {model, at, ch});
                ch.accept(null, new CompletionHandler<AsynchronousSocketChannel, Void>() {
                    @Override
                    public void completed(AsynchronousSocketChannel c, Void v) {
                        ACCEPTED.incrementAndGet();
                        ch.accept(null, this);
                        daemon(() -> serve(Channels.newInputStream(c), Channels.newOutputStream(c), c));
                    }

                    @Override
                    public void failed(Throwable t, Void v) {
                        System.out.println("ACCEPT-ERROR " + t);
                    }
                });
                return ((InetSocketAddress) ch.getLocalAddress()).getPort();
            }
            case "netty-epoll": { // Netty's native epoll transport: its own edge-triggered epoll set holds the listener
                ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                        .setLevel(ch.qos.logback.classic.Level.WARN);
                io.netty.channel.EventLoopGroup group = new io.netty.channel.epoll.EpollEventLoopGroup(2);
                io.netty.channel.Channel ch = new io.netty.bootstrap.ServerBootstrap().group(group)
                        .channel(io.netty.channel.epoll.EpollServerSocketChannel.class)
                        .option(io.netty.channel.ChannelOption.SO_BACKLOG, 128)
                        .childHandler(new io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
                            @Override
                            protected void initChannel(io.netty.channel.socket.SocketChannel c) {
                                ACCEPTED.incrementAndGet();
                                c.pipeline().addLast(new NettyHttp());
                            }
                        }).bind(at).sync().channel();
                OPEN.add(new Object[] {model, at, (AutoCloseable) () -> {
                    ch.close().sync();
                    group.shutdownGracefully();
                }});
                return ((InetSocketAddress) ch.localAddress()).getPort();
            }
            default:
                throw new IllegalArgumentException("unknown model " + model);
        }
    }

    private static ServerSocket serverSocket(InetSocketAddress at) throws IOException {
        ServerSocket ss = new ServerSocket();
        if (reusePort) {
            ss.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        }
        ss.bind(at, 128);
        return ss;
    }

    private static void acceptLoop(ServerSocket ss) {
        while (true) {
            try {
                Socket s = ss.accept();
                ACCEPTED.incrementAndGet();
                daemon(() -> serve(s));
                synchronized (PAUSE) {
                    while (PAUSE[0]) { // "pause": accept nothing more (after the accept under way) until "resume"
                        PAUSE.wait();
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (java.net.SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                System.out.println("ACCEPT-ERROR " + e);
                return;
            }
        }
    }

    private static void serve(Socket s) {
        try {
            serve(s.getInputStream(), s.getOutputStream(), s);
        } catch (IOException e) {
            // client gone
        }
    }

    /** Minimal HTTP/1.1 keep-alive: each request (headers up to the blank line) gets "ok". */
    private static void serve(InputStream in, OutputStream out, AutoCloseable c) {
        try (AutoCloseable closing = c) {
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

    /** The same minimal HTTP/1.1 keep-alive as {@link #serve(InputStream, OutputStream, AutoCloseable)}, on Netty. */
    private static final class NettyHttp extends io.netty.channel.ChannelInboundHandlerAdapter {
        private int state; // bytes of "\r\n\r\n" matched

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.buffer.ByteBuf in = (io.netty.buffer.ByteBuf) msg;
            try {
                while (in.isReadable()) {
                    byte b = in.readByte();
                    state = b == (state % 2 == 0 ? '\r' : '\n') ? state + 1 : (b == '\r' ? 1 : 0);
                    if (state == 4) {
                        ctx.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(
                                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII)));
                        state = 0;
                    }
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // client gone
        }
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
    }
}
