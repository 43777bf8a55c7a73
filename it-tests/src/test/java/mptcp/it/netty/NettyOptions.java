package mptcp.it.netty;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.unix.UnixChannelOption;

/**
 * Test application: the socket-option matrix of a Netty native transport (Netty 4.2, {@code epoll} or {@code io_uring}).
 * For every socket option the transport offers (ChannelOption's TCP-level ones, UnixChannelOption.SO_REUSEPORT and
 * every option of EpollChannelOption / IoUringChannelOption that applies to TCP) and every phase — {@code listener}
 * (set on the server channel before bind), {@code before-connect} (registered, not connected), {@code after-connect},
 * {@code accepted} (the server's child) — it sets the option through {@code config().setOption}, reads it back and
 * checks that a connection still echoes data, printing
 * <pre>cell &lt;phase&gt; &lt;OPTION&gt;: set=&lt;ok|unsupported|Exception&gt; get=&lt;value|Exception&gt; data=&lt;ok|Exception&gt;[ kept=&lt;value&gt;]</pre>
 * then {@code DONE}; {@code kept} (phases listener and before-connect) is the option read again once the channel is
 * bound or connected, which shows whether an option survived the agent's rules changing the socket's protocol at bind
 * or connect. The test compares the lines with and without the agent. Each before-connect cell is followed by
 * {@code protocol before-connect <OPTION>: 6|262}, SO_PROTOCOL of the connected socket (read with the app's own
 * jnr-ffi; not part of the cell).
 * <pre>
 *   NettyOptions epoll|io_uring [DECOY]
 * </pre>
 * With DECOY (an address nothing listens on, say 127.0.0.2), each before-connect cell first tries a connection to
 * DECOY (refused at once): the agent makes the next registered-but-unconnected socket with the protocol that connect
 * needed, so a rule that decides DECOY otherwise than 127.0.0.1 makes every before-connect socket change its protocol
 * at its connect.
 */
public final class NettyOptions {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** The option the server's next accepted child gets (phase accepted), and the outcomes it reports. */
    private static volatile Object[] childCell;
    private static final BlockingQueue<String> CHILD_RESULTS = new LinkedBlockingQueue<>();

    public static void main(String[] args) throws Exception {
        String transport = args[0];
        String decoy = args.length > 1 ? args[1] : null;
        EventLoopGroup group;
        Class<? extends ServerChannel> serverType;
        Class<? extends Channel> clientType;
        Class<?> optionClass;
        if (transport.equals("epoll")) {
            group = new io.netty.channel.epoll.EpollEventLoopGroup(1);
            serverType = io.netty.channel.epoll.EpollServerSocketChannel.class;
            clientType = io.netty.channel.epoll.EpollSocketChannel.class;
            optionClass = io.netty.channel.epoll.EpollChannelOption.class;
        } else {
            Object[] u = IoUringTransport.open();
            group = (EventLoopGroup) u[0];
            serverType = (Class<? extends ServerChannel>) u[1];
            clientType = (Class<? extends Channel>) u[2];
            optionClass = io.netty.channel.uring.IoUringChannelOption.class;
        }
        Map<String, Object> values = values();
        Map<String, ChannelOption<Object>> options = new LinkedHashMap<>();
        for (ChannelOption<?> o : List.of(ChannelOption.TCP_NODELAY, ChannelOption.SO_KEEPALIVE, ChannelOption.SO_RCVBUF,
                ChannelOption.SO_SNDBUF, ChannelOption.SO_LINGER, ChannelOption.IP_TOS, ChannelOption.SO_REUSEADDR,
                ChannelOption.TCP_FASTOPEN_CONNECT, ChannelOption.TCP_FASTOPEN, UnixChannelOption.SO_REUSEPORT)) {
            options.put(o.name(), (ChannelOption<Object>) o);
        }
        for (Field f : optionClass.getFields()) {
            if (f.get(null) instanceof ChannelOption && values.containsKey(f.getName())) {
                options.putIfAbsent(f.getName(), (ChannelOption<Object>) f.get(null));
            }
        }

        Channel server = new ServerBootstrap().group(group).channel(serverType).childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                Object[] cell = childCell;
                if (cell != null) {
                    CHILD_RESULTS.add(setGet(ch.config(), (ChannelOption<Object>) cell[0], cell[1]));
                }
                ch.pipeline().addLast(new Echo());
            }
        }).bind(new InetSocketAddress(LOOPBACK, 0)).sync().channel();
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        Bootstrap client = new Bootstrap().group(group).channel(clientType).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new Reader());
            }
        });

        for (Map.Entry<String, ChannelOption<Object>> e : options.entrySet()) {
            String name = e.getKey();
            ChannelOption<Object> option = e.getValue();
            Object value = values.get(name);
            // listener: a server channel of its own, option set before bind
            {
                Channel listener = new ServerBootstrap().group(group).channel(serverType)
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new Echo());
                            }
                        }).register().sync().channel();
                String setGet = setGet(listener.config(), option, value);
                String data;
                String kept = "";
                try {
                    listener.bind(new InetSocketAddress(LOOPBACK, 0)).sync();
                    kept = get(listener.config(), option);
                    Channel ch = client.connect(listener.localAddress()).sync().channel();
                    data = echo(ch);
                    ch.close().sync();
                } catch (Throwable t) {
                    data = describe(t);
                }
                listener.close().sync();
                System.out.println("cell listener " + name + ": " + setGet + " data=" + data + " kept=" + kept);
            }
            // before-connect
            {
                if (decoy != null) {
                    client.connect(new InetSocketAddress(decoy, address.getPort())).await(10, TimeUnit.SECONDS);
                }
                Channel ch = client.register().sync().channel();
                String setGet = setGet(ch.config(), option, value);
                String data;
                String kept = "";
                try {
                    ch.connect(address).sync();
                    kept = get(ch.config(), option);
                    // not part of the cell (compared with the run without the agent): the kernel's protocol
                    System.out.println("protocol before-connect " + name + ": " + mptcp.it.apps.KernelView.get(
                            ((io.netty.channel.unix.UnixChannel) ch).fd().intValue(), 38));
                    data = echo(ch);
                } catch (Throwable t) {
                    data = describe(t);
                }
                ch.close().sync();
                System.out.println("cell before-connect " + name + ": " + setGet + " data=" + data + " kept=" + kept);
            }
            // after-connect
            {
                Channel ch = client.connect(address).sync().channel();
                String setGet = setGet(ch.config(), option, value);
                String data = echo(ch);
                ch.close().sync();
                System.out.println("cell after-connect " + name + ": " + setGet + " data=" + data);
            }
            // accepted
            {
                childCell = new Object[] {option, value};
                Channel ch = client.connect(address).sync().channel();
                String data = echo(ch);
                String setGet = CHILD_RESULTS.poll(10, TimeUnit.SECONDS);
                childCell = null;
                ch.close().sync();
                System.out.println("cell accepted " + name + ": " + setGet + " data=" + data);
            }
        }
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        System.out.println("DONE");
        System.exit(0);
    }

    private static Map<String, Object> values() throws Exception {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("TCP_NODELAY", true);
        v.put("SO_KEEPALIVE", true);
        v.put("SO_RCVBUF", 65536);
        v.put("SO_SNDBUF", 65536);
        v.put("SO_LINGER", 5);
        v.put("IP_TOS", 0x10);
        v.put("SO_REUSEADDR", true);
        v.put("TCP_FASTOPEN_CONNECT", true);
        v.put("TCP_FASTOPEN", 16);
        v.put("SO_REUSEPORT", true);
        v.put("TCP_CORK", true);
        v.put("TCP_NOTSENT_LOWAT", 16384L);
        v.put("TCP_KEEPIDLE", 30);
        v.put("TCP_KEEPINTVL", 10);
        v.put("TCP_KEEPCNT", 3);
        v.put("TCP_USER_TIMEOUT", 5000);
        v.put("IP_FREEBIND", true);
        v.put("IP_BIND_ADDRESS_NO_PORT", true);
        v.put("IP_TRANSPARENT", true);
        v.put("TCP_DEFER_ACCEPT", 5);
        v.put("TCP_QUICKACK", true);
        v.put("SO_BUSY_POLL", 50);
        // a key for a peer that is not the test's, so that the echo connection itself is unaffected
        v.put("TCP_MD5SIG", Map.of(InetAddress.getByName("127.0.0.9"), "mptcp-agent-test".getBytes(StandardCharsets.UTF_8)));
        return v;
    }

    private static String setGet(ChannelConfig config, ChannelOption<Object> option, Object value) {
        String set;
        try {
            set = config.setOption(option, value) ? "ok" : "unsupported";
        } catch (Throwable t) {
            set = describe(t);
        }
        return "set=" + set + " get=" + get(config, option);
    }

    private static String get(ChannelConfig config, ChannelOption<Object> option) {
        try {
            Object v = config.getOption(option);
            return v instanceof Map ? "map" + ((Map<?, ?>) v).size() : String.valueOf(v);
        } catch (Throwable t) {
            return describe(t);
        }
    }

    /** Sends a line and waits for its echo. */
    private static String echo(Channel ch) {
        try {
            Reader reader = ch.pipeline().get(Reader.class);
            ch.writeAndFlush(Unpooled.copiedBuffer("ping\n", StandardCharsets.UTF_8)).sync();
            String line = reader.lines.poll(10, TimeUnit.SECONDS);
            return "ping".equals(line) ? "ok" : "no-echo";
        } catch (Throwable t) {
            return describe(t);
        }
    }

    private static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? "" : "(" + root.getMessage().replace(' ', '_') + ")";
        return t.getClass().getSimpleName() + (root != t ? "/" + root.getClass().getSimpleName() : "") + m;
    }

    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    private static final class Reader extends ChannelInboundHandlerAdapter {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            text.append(b.toString(StandardCharsets.UTF_8));
            b.release();
            for (int nl; (nl = text.indexOf("\n")) >= 0; ) {
                lines.add(text.substring(0, nl));
                text.delete(0, nl + 1);
            }
        }
    }
}
