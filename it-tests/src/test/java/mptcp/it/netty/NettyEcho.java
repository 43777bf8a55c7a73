package mptcp.it.netty;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;

/**
 * Test application: a Netty echo server or client on a native transport (epoll, or io_uring on Netty 4.2). Compiled
 * against Netty 4.2; the epoll path uses only API that Netty 4.1 has too, so the same class runs on 4.1's jars.
 *
 * <pre>
 *   NettyEcho epoll|io_uring server BIND_ADDRESS PORT[,PORT...]  one listener per port, prints LISTEN port..., echoes
 *                                                                every byte, until a line on stdin
 *   NettyEcho epoll|io_uring client HOST PORT[,PORT...] COUNT    COUNT connections (the i-th to the i-th port, round
 *                                                                robin), each sends a line and prints ECHO line, then
 *                                                                READY; all stay open until a line on stdin
 *   NettyEcho epoll|io_uring loop BIND[,BIND...] HOST[,HOST...] COUNT  both in one JVM: one listener per bind address
 *                                                                (port 0), LISTEN port..., then as client to those
 *                                                                ports, the i-th connection to the i-th HOST (round robin)
 *   NettyEcho epoll|io_uring loop-register ...                   as loop, each client channel registered first
 *                                                                (Bootstrap.register()) and connected after, as gRPC and
 *                                                                Reactor Netty do: its destination unknown when its
 *                                                                socket is made
 *   NettyEcho epoll|io_uring client-attach HOST PORT COUNT       as client, then prints WAITING, waits for a line on
 *                                                                stdin (the test attaches the agent) and makes COUNT more
 *   NettyEcho epoll|io_uring client-tfo HOST PORT[,PORT...] COUNT  as client with TCP_FASTOPEN_CONNECT, the line written
 *                                                                before connect (Netty's TCP Fast Open path)
 * </pre>
 * Every failure prints {@code EXCEPTION <throwable> | <cause> | ...} and the process goes on to READY. At start it
 * prints {@code HIDDEN name} or {@code VISIBLE name} for classes of the agent, as seen from Netty's class loader, and
 * whether the agent's hook class exists in Netty's package ({@code HOOK present|absent}).
 */
public final class NettyEcho {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String transport = args[0];
        EventLoopGroup group;
        Class<? extends ServerChannel> serverType;
        Class<? extends Channel> clientType;
        if (transport.equals("epoll")) {
            if (!io.netty.channel.epoll.Epoll.isAvailable()) {
                System.out.println("UNAVAILABLE " + io.netty.channel.epoll.Epoll.unavailabilityCause());
                System.exit(1);
            }
            group = new io.netty.channel.epoll.EpollEventLoopGroup(1);
            serverType = io.netty.channel.epoll.EpollServerSocketChannel.class;
            clientType = io.netty.channel.epoll.EpollSocketChannel.class;
        } else {
            Object[] u = IoUringTransport.open();
            group = (EventLoopGroup) u[0];
            serverType = (Class<? extends ServerChannel>) u[1];
            clientType = (Class<? extends Channel>) u[2];
        }
        System.out.println("NETTY " + io.netty.util.Version.identify().get("netty-common").artifactVersion() + " " + transport);
        for (String agentClass : new String[] {"mptcp.agent.Agent", "mptcp.agent.netty.NettySockets", "mptcp.sys.Sock"}) {
            try {
                Class.forName(agentClass, false, Channel.class.getClassLoader());
                System.out.println("VISIBLE " + agentClass);
            } catch (ClassNotFoundException e) {
                System.out.println("HIDDEN " + agentClass);
            }
        }
        try {
            Class.forName("io.netty.channel.unix.MptcpAgentHook", false, Channel.class.getClassLoader());
            System.out.println("HOOK present");
        } catch (ClassNotFoundException e) {
            System.out.println("HOOK absent");
        }
        List<Channel> keep = new ArrayList<>();
        String mode = args[1];
        List<Integer> ports = new ArrayList<>();
        if (mode.equals("server") || mode.startsWith("loop")) {
          try {
            for (String bind : mode.equals("server") ? new String[] {args[2]} : args[2].split(",")) {
                for (String port : mode.equals("server") ? args[3].split(",") : new String[] {"0"}) {
                    Channel server = new ServerBootstrap().group(group).channel(serverType)
                            .childHandler(new ChannelInitializer<SocketChannel>() {
                                @Override
                                protected void initChannel(SocketChannel ch) {
                                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            ctx.writeAndFlush(msg);
                                        }
                                    });
                                }
                            }).bind(new InetSocketAddress(bind, Integer.parseInt(port))).sync().channel();
                    keep.add(server);
                    ports.add(((InetSocketAddress) server.localAddress()).getPort());
                }
            }
            StringBuilder line = new StringBuilder("LISTEN");
            ports.forEach(p -> line.append(' ').append(p));
            System.out.println(line);
          } catch (Throwable t) {
            exception(t);
          }
        }
        boolean loop = mode.startsWith("loop");
        if (!mode.equals("server")) {
            String[] hosts = (loop ? args[3] : args[2]).split(",");
            if (!loop) {
                for (String port : args[3].split(",")) {
                    ports.add(Integer.parseInt(port));
                }
            }
            int count = Integer.parseInt(args[4]);
            for (int i = 0; i < (mode.equals("client-attach") ? 2 * count : count); i++) {
                if (mode.equals("client-attach") && i == count) {
                    System.out.println("WAITING");
                    System.out.flush();
                    in.readLine();
                }
                try {
                    BlockingQueue<String> echoes = new ArrayBlockingQueue<>(16);
                    boolean fastOpen = mode.equals("client-tfo");
                    String hello = "hello " + i + "\n";
                    Bootstrap bootstrap = new Bootstrap().group(group).channel(clientType);
                    if (fastOpen) {
                        bootstrap.option(ChannelOption.TCP_FASTOPEN_CONNECT, true);
                    }
                    bootstrap.handler(new ChannelInboundHandlerAdapter() {
                        private final StringBuilder text = new StringBuilder();

                        @Override
                        public void channelRegistered(ChannelHandlerContext ctx) {
                            if (fastOpen) {
                                // queued before connect: Netty sends it with the SYN (sendto/sendmsg MSG_FASTOPEN)
                                ctx.write(Unpooled.copiedBuffer(hello, StandardCharsets.UTF_8));
                            }
                            ctx.fireChannelRegistered();
                        }

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            text.append(b.toString(StandardCharsets.UTF_8));
                            b.release();
                            int nl = text.indexOf("\n");
                            if (nl >= 0) {
                                echoes.add(text.substring(0, nl));
                                text.delete(0, nl + 1);
                            }
                        }
                    });
                    String host = hosts[i % hosts.length];
                    int port = ports.get(i % ports.size());
                    Channel ch = mode.equals("loop-register")
                            ? bootstrap.register().sync().channel().connect(new InetSocketAddress(host, port)).sync().channel()
                            : bootstrap.connect(host, port).sync().channel();
                    keep.add(ch);
                    if (fastOpen) {
                        ch.flush();
                    } else {
                        ch.writeAndFlush(Unpooled.copiedBuffer(hello, StandardCharsets.UTF_8)).sync();
                    }
                    String echo = echoes.poll(20, TimeUnit.SECONDS);
                    System.out.println("ECHO " + echo + " " + ch.localAddress() + " -> " + ch.remoteAddress());
                } catch (Throwable t) {
                    exception(t);
                }
            }
        }
        System.out.println("READY");
        System.out.flush();
        in.readLine();
        for (Channel ch : keep) {
            ch.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        System.exit(0);
    }

    private static void exception(Throwable t) {
        StringBuilder line = new StringBuilder("EXCEPTION ").append(t);
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            line.append(" | ").append(c);
        }
        System.out.println(line);
    }
}
