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
 * a native transport (or nio: the JDK's channels, the agent's JDK path). Each connection: connect (sync), the server's child becomes active, close (sync), one at a time.
 * <pre>
 *   NettyChurn epoll|io_uring|nio BIND_ADDRESS CONNECT_HOST WARMUP COUNT [BATCHES]
 * </pre>
 * Prints {@code connections/s N}, {@code cpu_us_per_connection C} (the process's CPU time, user + system, all
 * threads: JIT and GC included) and {@code loop_cpu_us_per_connection L} (the event loop thread's own CPU time, where
 * every socket call of client and server runs, the agent's included) for COUNT measured connections (after WARMUP unmeasured ones): the median of BATCHES (default 1) batches of
 * COUNT, which smooths out other work on the machine. Runs on Netty 4.1 too (epoll).
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
        EventLoopGroup group;
        Class<? extends ServerChannel> serverType;
        Class<? extends Channel> clientType;
        if (args[0].equals("epoll")) {
            group = new io.netty.channel.epoll.EpollEventLoopGroup(1);
            serverType = io.netty.channel.epoll.EpollServerSocketChannel.class;
            clientType = io.netty.channel.epoll.EpollSocketChannel.class;
        } else if (args[0].equals("nio")) { // the JDK's channels: the agent's JDK path
            group = new io.netty.channel.nio.NioEventLoopGroup(1);
            serverType = io.netty.channel.socket.nio.NioServerSocketChannel.class;
            clientType = io.netty.channel.socket.nio.NioSocketChannel.class;
        } else {
            Object[] u = mptcp.it.netty.IoUringTransport.open();
            group = (EventLoopGroup) u[0];
            serverType = (Class<? extends ServerChannel>) u[1];
            clientType = (Class<? extends Channel>) u[2];
        }
        Channel server = new ServerBootstrap().group(group).channel(serverType)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter());
                    }
                }).bind(new InetSocketAddress(args[1], 0)).sync().channel();
        InetSocketAddress to = new InetSocketAddress(args[2], ((InetSocketAddress) server.localAddress()).getPort());
        Bootstrap client = new Bootstrap().group(group).channel(clientType).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // nothing to read: the client only connects and closes
            }
        });
        churn(client, to, Integer.parseInt(args[3]));
        int count = Integer.parseInt(args[4]);
        int batches = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        io.netty.channel.EventLoop loop = group.next(); // the only one: client and server channels all run on it
        double[] rates = new double[batches];
        double[] cpus = new double[batches];
        double[] loopCpus = new double[batches];
        for (int b = 0; b < batches; b++) {
            long cpu0 = os.getProcessCpuTime();
            long loop0 = loop.submit(threads::getCurrentThreadCpuTime).get();
            long t0 = System.nanoTime();
            churn(client, to, count);
            rates[b] = count / ((System.nanoTime() - t0) / 1e9);
            loopCpus[b] = (loop.submit(threads::getCurrentThreadCpuTime).get() - loop0) / 1e3 / count;
            cpus[b] = (os.getProcessCpuTime() - cpu0) / 1e3 / count;
        }
        java.util.Arrays.sort(rates);
        java.util.Arrays.sort(cpus);
        java.util.Arrays.sort(loopCpus);
        System.out.printf("connections/s %.1f%ncpu_us_per_connection %.1f%nloop_cpu_us_per_connection %.1f%n",
                rates[batches / 2], cpus[batches / 2], loopCpus[batches / 2]);
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        System.exit(0);
    }

    private static void churn(Bootstrap client, InetSocketAddress to, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            client.connect(to).sync().channel().close().sync();
        }
    }
}
