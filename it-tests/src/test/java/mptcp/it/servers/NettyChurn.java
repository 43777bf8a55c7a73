package mptcp.it.servers;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;

/**
 * Benchmark application (bench/netty-churn.sh, not a test): Netty connection churn, client and server in one JVM on
 * a native transport. Each connection: connect (sync), the server's child becomes active, close (sync), one at a time.
 * <pre>
 *   NettyChurn epoll|io_uring BIND_ADDRESS CONNECT_HOST WARMUP COUNT [BATCHES]
 *   NettyChurn epoll|io_uring serve BIND_ADDRESS                      the server alone (two namespaces): prints
 *                                                                    "port N", closes each connection it accepts,
 *                                                                    until its standard input ends
 *   NettyChurn epoll|io_uring connect HOST PORT WARMUP COUNT [BATCHES] the client alone, to such a server: each
 *                                                                    connection waits for the server's close
 * </pre>
 * Prints {@code connections/s N}, {@code cpu_us_per_connection C} (the process's CPU time, user + system, all
 * threads: JIT and GC included; summed from each thread's /proc/self/task/N/schedstat, in nanoseconds, where the
 * process's own CPU time counts 10 ms ticks) and {@code loop_cpu_us_per_connection L} (the event loop thread's own CPU time, where
 * every socket call of client and server runs, the agent's included) for COUNT measured connections (after WARMUP
 * unmeasured ones): the median of BATCHES (default 1) batches of COUNT, which smooths out other work on the machine.
 * Runs on Netty 4.1 too (epoll). With {@code -Dchurn.connect=register} each client channel is registered first and
 * connected after (as gRPC and Reactor Netty do), not made by {@code Bootstrap.connect}. The client alone waits for the server's close before its next connection, so that
 * it never runs ahead of the acceptor (a full accept queue drops SYNs, each then retransmitted after 1 s).
 */
public final class NettyChurn {
    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1); // the event loop's thread would keep the JVM alive
        }
    }

    private static void run(String[] args) throws Exception {
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        boolean serve = rest[0].equals("serve");
        boolean connect = rest[0].equals("connect");
        if (serve || connect) {
            rest = java.util.Arrays.copyOfRange(rest, 1, rest.length);
        }
        EventLoopGroup group;
        Class<? extends ServerChannel> serverType;
        Class<? extends Channel> clientType;
        if (args[0].equals("epoll")) {
            group = new io.netty.channel.epoll.EpollEventLoopGroup(1);
            serverType = io.netty.channel.epoll.EpollServerSocketChannel.class;
            clientType = io.netty.channel.epoll.EpollSocketChannel.class;
        } else {
            Object[] u = mptcp.it.netty.IoUringTransport.open();
            group = (EventLoopGroup) u[0];
            serverType = (Class<? extends ServerChannel>) u[1];
            clientType = (Class<? extends Channel>) u[2];
        }
        Channel server = null;
        InetSocketAddress to;
        if (connect) {
            to = new InetSocketAddress(rest[0], Integer.parseInt(rest[1])); // then WARMUP COUNT BATCHES, as below
        } else {
            server = new ServerBootstrap().group(group).channel(serverType)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(serve ? new Closer() : new ChannelInboundHandlerAdapter());
                        }
                    }).bind(new InetSocketAddress(rest[0], 0)).sync().channel();
            to = new InetSocketAddress(serve ? rest[0] : rest[1], ((InetSocketAddress) server.localAddress()).getPort());
        }
        if (serve) {
            System.out.println("port " + to.getPort());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the driver closes our standard input
            }
            server.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            System.exit(0);
        }
        Bootstrap client = new Bootstrap().group(group).channel(clientType).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // nothing to read: the client only connects and closes
            }
        });
        churn(client, to, Integer.parseInt(rest[2]), connect);
        int count = Integer.parseInt(rest[3]);
        int batches = rest.length > 4 ? Integer.parseInt(rest[4]) : 1;
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        io.netty.channel.EventLoop loop = group.next(); // the only one: client and server channels all run on it
        double[] rates = new double[batches];
        double[] cpus = new double[batches];
        double[] loopCpus = new double[batches];
        for (int b = 0; b < batches; b++) {
            long cpu0 = processCpuNanos(os);
            long loop0 = loop.submit(threads::getCurrentThreadCpuTime).get();
            long t0 = System.nanoTime();
            churn(client, to, count, connect);
            rates[b] = count / ((System.nanoTime() - t0) / 1e9);
            loopCpus[b] = (loop.submit(threads::getCurrentThreadCpuTime).get() - loop0) / 1e3 / count;
            cpus[b] = (processCpuNanos(os) - cpu0) / 1e3 / count;
        }
        java.util.Arrays.sort(rates);
        java.util.Arrays.sort(cpus);
        java.util.Arrays.sort(loopCpus);
        System.out.printf("connections/s %.1f%ncpu_us_per_connection %.1f%nloop_cpu_us_per_connection %.1f%n",
                rates[batches / 2], cpus[batches / 2], loopCpus[batches / 2]);
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        System.exit(0);
    }

    /**
     * The CPU time of all threads of this process, in nanoseconds: the first field of each thread's
     * /proc/self/task/N/schedstat (threads that ended are missed; the event loop, JIT and GC threads live throughout).
     * Without schedstat: the process's CPU time (10 ms ticks).
     */
    private static long processCpuNanos(com.sun.management.OperatingSystemMXBean os) {
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        long sum = 0;
        try {
            for (java.io.File t : tasks == null ? new java.io.File[0] : tasks) {
                try {
                    String line = new String(java.nio.file.Files.readAllBytes(new java.io.File(t, "schedstat").toPath()));
                    sum += Long.parseLong(line.substring(0, line.indexOf(' ')));
                } catch (java.nio.file.NoSuchFileException ended) {
                    // the thread ended meanwhile
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return os.getProcessCpuTime();
        }
        return tasks == null || sum == 0 ? os.getProcessCpuTime() : sum;
    }

    /**
     * Each connection registered first and connected after ({@code -Dchurn.connect=register}, as gRPC and Reactor Netty
     * connect: the destination is not known when the socket is made), or through {@code Bootstrap.connect} (default).
     */
    private static final boolean REGISTER = "register".equals(System.getProperty("churn.connect"));

    /** {@code awaitClose}: each connection waits for the server's close; otherwise it is closed once connected. */
    private static void churn(Bootstrap client, InetSocketAddress to, int n, boolean awaitClose) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            Channel ch = REGISTER ? client.register().sync().channel().connect(to).sync().channel()
                    : client.connect(to).sync().channel();
            (awaitClose ? ch.closeFuture() : ch.close()).sync();
        }
    }

    /** The server of the two-namespace runs: closes each connection as soon as it is accepted. */
    private static final class Closer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
