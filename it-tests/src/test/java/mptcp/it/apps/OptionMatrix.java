package mptcp.it.apps;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Test application: the socket-option compatibility matrix. For every TCP-applicable option of StandardSocketOptions
 * and jdk.net.ExtendedSocketOptions (by reflection: IP_DONTFRAGMENT exists on JDK 19+ only) and the Socket setters, on
 * every kind of socket, peer family and phase, it sets the option, reads it back, then checks that the connection
 * still carries data, and prints one line per cell:
 * <pre>cell &lt;kind&gt; &lt;peer&gt; &lt;phase&gt; &lt;option&gt; set=&lt;ok|Exception&gt; get=&lt;value|Exception&gt; ... data=&lt;ok|Exception&gt; proto=&lt;p,p,...&gt;</pre>
 * where proto lists the kernel's SO_PROTOCOL (6 TCP, 262 MPTCP) of the cell's sockets in the order they were made:
 * client cells {@code client,accepted}, server cells {@code listener,client,accepted}; a cell whose set-up failed
 * has {@code failed=<Exception>} and no proto.
 * and one {@code supported <class> <options>} line per socket class (the JDK's capability probes), then {@code DONE}.
 * The test runs it with and without the agent and compares the lines.
 */
public final class OptionMatrix {
    private static final InetAddress V4 = address("127.0.0.1");
    private static final InetAddress V6 = address("::1");
    private static final byte[] DATA = {'a', 'b'};

    /** An option to set through setOption/getOption (value null: read-only, only read). */
    private static final class Opt {
        final String label;
        final SocketOption<Object> option;
        final Object value;

        @SuppressWarnings("unchecked")
        Opt(String label, SocketOption<?> option, Object value) {
            this.label = label;
            this.option = (SocketOption<Object>) option;
            this.value = value;
        }
    }

    /** One socket end under test: options through setOption/getOption, and data. */
    private interface End {
        void set(SocketOption<Object> o, Object v) throws Exception;

        Object get(SocketOption<Object> o) throws Exception;
    }

    /** A Socket setter and its getter. */
    private interface Setter {
        String apply(Socket s) throws Exception;
    }

    private static final List<Opt> OPTIONS = new ArrayList<>();
    private static final List<String[]> SETTERS = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        OPTIONS.add(new Opt("SO_KEEPALIVE", StandardSocketOptions.SO_KEEPALIVE, true));
        OPTIONS.add(new Opt("SO_LINGER", StandardSocketOptions.SO_LINGER, 5));
        OPTIONS.add(new Opt("SO_RCVBUF", StandardSocketOptions.SO_RCVBUF, 65536));
        OPTIONS.add(new Opt("SO_SNDBUF", StandardSocketOptions.SO_SNDBUF, 65536));
        OPTIONS.add(new Opt("SO_REUSEADDR", StandardSocketOptions.SO_REUSEADDR, true));
        OPTIONS.add(new Opt("SO_REUSEPORT", StandardSocketOptions.SO_REUSEPORT, true));
        OPTIONS.add(new Opt("TCP_NODELAY", StandardSocketOptions.TCP_NODELAY, true));
        OPTIONS.add(new Opt("IP_TOS", StandardSocketOptions.IP_TOS, 0x10));
        extended("TCP_QUICKACK", true);
        extended("TCP_KEEPIDLE", 30);
        extended("TCP_KEEPINTERVAL", 5);
        extended("TCP_KEEPCOUNT", 3);
        extended("IP_DONTFRAGMENT", true);
        extended("SO_INCOMING_NAPI_ID", null);
        extended("SO_PEERCRED", null);

        for (Class<?> c : new Class<?>[] {Socket.class, ServerSocket.class}) {
            Object s = c.getConstructor().newInstance();
            @SuppressWarnings("unchecked")
            Set<SocketOption<?>> supported = (Set<SocketOption<?>>) c.getMethod("supportedOptions").invoke(s);
            supported(c.getSimpleName(), supported);
            ((AutoCloseable) s).close();
        }
        try (SocketChannel c = SocketChannel.open(); ServerSocketChannel sc = ServerSocketChannel.open();
             AsynchronousSocketChannel a = AsynchronousSocketChannel.open();
             AsynchronousServerSocketChannel as = AsynchronousServerSocketChannel.open()) {
            supported("SocketChannel", c.supportedOptions());
            supported("ServerSocketChannel", sc.supportedOptions());
            supported("AsynchronousSocketChannel", a.supportedOptions());
            supported("AsynchronousServerSocketChannel", as.supportedOptions());
        }

        try (ServerSocket peer4 = new ServerSocket(0, 50, V4); ServerSocket peer6 = new ServerSocket(0, 50, V6)) {
            peer4.setSoTimeout(5000);
            peer6.setSoTimeout(5000);
            for (String kind : new String[] {"socket", "channel", "channel-inet", "channel-inet6", "async"}) {
                for (String peer : peers(kind)) {
                    ServerSocket listener = peer.equals("v4") ? peer4 : peer6;
                    for (String phase : new String[] {"before-connect", "bound-before-connect", "after-connect"}) {
                        for (Opt o : OPTIONS) {
                            cell(kind, peer, phase, o.label, line -> client(kind, listener, phase, line,
                                    end -> optionCell(end, o, line)));
                        }
                        if (kind.equals("socket")) {
                            for (String[] setter : SETTERS) {
                                cell(kind, peer, phase, setter[0], line -> client(kind, listener, phase, line,
                                        end -> line.append(socketSetter(((SocketEnd) end).socket, setter[0]))));
                            }
                        }
                    }
                }
            }
            for (String kind : new String[] {"serversocket", "serverchannel", "serverchannel-inet", "async-server"}) {
                for (String peer : peers(kind)) {
                    for (String phase : new String[] {"unbound-listener", "bound-listener", "accepted"}) {
                        for (Opt o : OPTIONS) {
                            cell(kind, peer, phase, o.label, line -> server(kind, peer, phase, line,
                                    end -> optionCell(end, o, line)));
                        }
                        if (kind.equals("serversocket")) {
                            for (String[] setter : SETTERS) {
                                if (phase.equals("accepted") || setter[1] != null) {
                                    cell(kind, peer, phase, setter[0], line -> server(kind, peer, phase, line,
                                            end -> line.append(end instanceof SocketEnd
                                                    ? socketSetter(((SocketEnd) end).socket, setter[0])
                                                    : serverSocketSetter(((ServerSocketEnd) end).socket, setter[0]))));
                                }
                            }
                        }
                    }
                }
            }
        }
        System.out.println("DONE");
    }

    static {
        // name, and non-null when ServerSocket has it too
        SETTERS.add(new String[] {"setTrafficClass", null});
        SETTERS.add(new String[] {"setOOBInline", null});
        SETTERS.add(new String[] {"setSoLinger", null});
        SETTERS.add(new String[] {"setKeepAlive", null});
        SETTERS.add(new String[] {"setTcpNoDelay", null});
        SETTERS.add(new String[] {"setReceiveBufferSize", "server"});
        SETTERS.add(new String[] {"setSendBufferSize", null});
        SETTERS.add(new String[] {"setReuseAddress", "server"});
        SETTERS.add(new String[] {"setSoTimeout", "server"});
    }

    private static String[] peers(String kind) {
        if (kind.endsWith("-inet")) {
            return new String[] {"v4"};
        }
        if (kind.endsWith("-inet6")) {
            return new String[] {"v6"};
        }
        return new String[] {"v4", "v6"};
    }

    private interface Cell {
        void run(StringBuilder line) throws Exception;
    }

    private interface Body {
        void run(End end) throws Exception;
    }

    private static void cell(String kind, String peer, String phase, String label, Cell body) {
        StringBuilder line = new StringBuilder("cell " + kind + " " + peer + " " + phase + " " + label + ":");
        try {
            body.run(line);
        } catch (Throwable t) {
            line.append(" failed=").append(t.getClass().getSimpleName());
        }
        System.out.println(line);
    }

    private static void optionCell(End end, Opt o, StringBuilder line) {
        if (o.value != null) {
            line.append(" set=").append(outcome(() -> {
                end.set(o.option, o.value);
                return "ok";
            }));
        }
        line.append(" get=").append(outcome(() -> end.get(o.option)));
    }

    private interface Action {
        Object run() throws Exception;
    }

    private static String outcome(Action a) {
        try {
            return String.valueOf(a.run());
        } catch (Throwable t) {
            return t.getClass().getSimpleName();
        }
    }

    /** A client of {@code kind} connected to {@code listener}; {@code body} runs before or after connecting. */
    private static void client(String kind, ServerSocket listener, String phase, StringBuilder line, Body body)
            throws Exception {
        InetSocketAddress to = new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
        Map<Integer, String> existing = KernelView.sockets();
        boolean before = !phase.equals("after-connect");
        boolean bound = phase.equals("bound-before-connect");
        List<AutoCloseable> open = new ArrayList<>();
        try {
            End end;
            Action connect;
            Action write;
            Action local;
            InetSocketAddress from = new InetSocketAddress(to.getAddress(), 0);
            if (kind.equals("socket")) {
                Socket s = new Socket();
                open.add(s);
                end = new SocketEnd(s);
                local = () -> {
                    if (bound && !s.isBound()) {
                        s.bind(from);
                    }
                    return s.getLocalPort();
                };
                connect = () -> {
                    s.connect(to, 5000);
                    return null;
                };
                write = () -> {
                    s.getOutputStream().write(DATA);
                    return null;
                };
            } else if (kind.equals("async")) {
                AsynchronousSocketChannel c = AsynchronousSocketChannel.open();
                open.add(c);
                end = new ChannelEnd(c);
                local = () -> {
                    if (bound && c.getLocalAddress() == null) {
                        c.bind(from);
                    }
                    return c.getLocalAddress() == null ? 0 : ((InetSocketAddress) c.getLocalAddress()).getPort();
                };
                connect = () -> c.connect(to).get(5, TimeUnit.SECONDS);
                write = () -> c.write(ByteBuffer.wrap(DATA)).get(5, TimeUnit.SECONDS);
            } else {
                SocketChannel c = kind.equals("channel") ? SocketChannel.open()
                        : SocketChannel.open(kind.endsWith("inet6") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                open.add(c);
                end = new ChannelEnd(c);
                local = () -> {
                    if (bound && c.getLocalAddress() == null) {
                        c.bind(from);
                    }
                    return c.getLocalAddress() == null ? 0 : ((InetSocketAddress) c.getLocalAddress()).getPort();
                };
                connect = () -> c.connect(to);
                write = () -> c.write(ByteBuffer.wrap(DATA));
            }
            Object port = local.run();
            if (before) {
                body.run(end);
            }
            connect.run();
            if (bound) {
                line.append(" port=").append(port.equals(local.run()) ? "kept" : "changed");
            }
            Socket accepted = listener.accept();
            open.add(accepted);
            if (!before) {
                body.run(end);
            }
            line.append(" data=").append(outcome(() -> {
                write.run();
                return check(accepted.getInputStream());
            }));
            line.append(" proto=").append(KernelView.newProtocols(existing));
        } finally {
            close(open);
        }
    }

    /** A listener of {@code kind}, and a connection to it; {@code body} runs on the listener or the accepted socket. */
    private static void server(String kind, String peer, String phase, StringBuilder line, Body body) throws Exception {
        InetSocketAddress at = new InetSocketAddress(peer.equals("v4") ? V4 : V6, 0);
        Map<Integer, String> existing = KernelView.sockets();
        List<AutoCloseable> open = new ArrayList<>();
        try {
            End listenerEnd;
            Action bind;
            Action accept;
            Action localPort;
            if (kind.equals("serversocket")) {
                ServerSocket ss = new ServerSocket();
                open.add(ss);
                listenerEnd = new ServerSocketEnd(ss);
                bind = () -> {
                    ss.bind(at);
                    ss.setSoTimeout(5000);
                    return null;
                };
                accept = () -> {
                    Socket a = ss.accept();
                    open.add(a);
                    return new SocketEnd(a);
                };
                localPort = ss::getLocalPort;
            } else if (kind.equals("async-server")) {
                AsynchronousServerSocketChannel ss = AsynchronousServerSocketChannel.open();
                open.add(ss);
                listenerEnd = new ChannelEnd(ss);
                bind = () -> ss.bind(at);
                accept = () -> {
                    AsynchronousSocketChannel a = ss.accept().get(5, TimeUnit.SECONDS);
                    open.add(a);
                    return new ChannelEnd(a);
                };
                localPort = () -> ((InetSocketAddress) ss.getLocalAddress()).getPort();
            } else {
                ServerSocketChannel ss = kind.equals("serverchannel") ? ServerSocketChannel.open()
                        : ServerSocketChannel.open(StandardProtocolFamily.INET);
                open.add(ss);
                listenerEnd = new ChannelEnd(ss);
                bind = () -> ss.bind(at);
                accept = () -> {
                    SocketChannel a = ss.accept();
                    open.add(a);
                    return new ChannelEnd(a);
                };
                localPort = () -> ((InetSocketAddress) ss.getLocalAddress()).getPort();
            }
            if (phase.equals("unbound-listener")) {
                body.run(listenerEnd);
            }
            bind.run();
            if (phase.equals("bound-listener")) {
                body.run(listenerEnd);
            }
            Socket client = new Socket();
            open.add(client);
            client.setSoTimeout(5000);
            client.connect(new InetSocketAddress(at.getAddress(), (Integer) localPort.run()), 5000);
            End accepted = (End) accept.run();
            if (phase.equals("accepted")) {
                body.run(accepted);
            }
            line.append(" data=").append(outcome(() -> {
                if (accepted instanceof SocketEnd) {
                    ((SocketEnd) accepted).socket.getOutputStream().write(DATA);
                } else {
                    ((ChannelEnd) accepted).write(DATA);
                }
                return check(client.getInputStream());
            }));
            line.append(" proto=").append(KernelView.newProtocols(existing));
        } finally {
            close(open);
        }
    }

    private static String check(InputStream in) throws Exception {
        byte[] got = in.readNBytes(DATA.length);
        return java.util.Arrays.equals(got, DATA) ? "ok" : java.util.Arrays.toString(got);
    }

    private static String socketSetter(Socket s, String name) {
        switch (name) {
            case "setTrafficClass":
                return " set=" + outcome(() -> { s.setTrafficClass(0x10); return "ok"; }) + " get=" + outcome(s::getTrafficClass);
            case "setOOBInline":
                return " set=" + outcome(() -> { s.setOOBInline(true); return "ok"; }) + " get=" + outcome(s::getOOBInline);
            case "setSoLinger":
                return " set=" + outcome(() -> { s.setSoLinger(true, 7); return "ok"; }) + " get=" + outcome(s::getSoLinger);
            case "setKeepAlive":
                return " set=" + outcome(() -> { s.setKeepAlive(true); return "ok"; }) + " get=" + outcome(s::getKeepAlive);
            case "setTcpNoDelay":
                return " set=" + outcome(() -> { s.setTcpNoDelay(true); return "ok"; }) + " get=" + outcome(s::getTcpNoDelay);
            case "setReceiveBufferSize":
                return " set=" + outcome(() -> { s.setReceiveBufferSize(32768); return "ok"; }) + " get=" + outcome(s::getReceiveBufferSize);
            case "setSendBufferSize":
                return " set=" + outcome(() -> { s.setSendBufferSize(32768); return "ok"; }) + " get=" + outcome(s::getSendBufferSize);
            case "setReuseAddress":
                return " set=" + outcome(() -> { s.setReuseAddress(true); return "ok"; }) + " get=" + outcome(s::getReuseAddress);
            case "setSoTimeout":
                return " set=" + outcome(() -> { s.setSoTimeout(1234); return "ok"; }) + " get=" + outcome(s::getSoTimeout);
            default:
                throw new IllegalArgumentException(name);
        }
    }

    private static String serverSocketSetter(ServerSocket s, String name) {
        switch (name) {
            case "setReceiveBufferSize":
                return " set=" + outcome(() -> { s.setReceiveBufferSize(32768); return "ok"; }) + " get=" + outcome(s::getReceiveBufferSize);
            case "setReuseAddress":
                return " set=" + outcome(() -> { s.setReuseAddress(true); return "ok"; }) + " get=" + outcome(s::getReuseAddress);
            case "setSoTimeout":
                return " set=" + outcome(() -> { s.setSoTimeout(1234); return "ok"; }) + " get=" + outcome(s::getSoTimeout);
            default:
                throw new IllegalArgumentException(name);
        }
    }

    private static final class SocketEnd implements End {
        final Socket socket;

        SocketEnd(Socket socket) {
            this.socket = socket;
        }

        @Override
        public void set(SocketOption<Object> o, Object v) throws Exception {
            socket.setOption(o, v);
        }

        @Override
        public Object get(SocketOption<Object> o) throws Exception {
            return socket.getOption(o);
        }
    }

    private static final class ServerSocketEnd implements End {
        final ServerSocket socket;

        ServerSocketEnd(ServerSocket socket) {
            this.socket = socket;
        }

        @Override
        public void set(SocketOption<Object> o, Object v) throws Exception {
            socket.setOption(o, v);
        }

        @Override
        public Object get(SocketOption<Object> o) throws Exception {
            return socket.getOption(o);
        }
    }

    private static final class ChannelEnd implements End {
        final NetworkChannel channel;

        ChannelEnd(NetworkChannel channel) {
            this.channel = channel;
        }

        @Override
        public void set(SocketOption<Object> o, Object v) throws Exception {
            channel.setOption(o, v);
        }

        @Override
        public Object get(SocketOption<Object> o) throws Exception {
            return channel.getOption(o);
        }

        void write(byte[] data) throws Exception {
            if (channel instanceof SocketChannel) {
                ((SocketChannel) channel).write(ByteBuffer.wrap(data));
            } else {
                ((AsynchronousSocketChannel) channel).write(ByteBuffer.wrap(data)).get(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void extended(String name, Object value) {
        try {
            SocketOption<?> o = (SocketOption<?>) Class.forName("jdk.net.ExtendedSocketOptions").getField(name).get(null);
            OPTIONS.add(new Opt(name, o, value));
        } catch (ReflectiveOperationException e) {
            System.out.println("absent " + name);
        }
    }

    private static void supported(String what, Set<SocketOption<?>> options) {
        Set<String> names = new TreeSet<>();
        options.forEach(o -> names.add(o.name()));
        System.out.println("supported " + what + " " + String.join(",", names));
    }

    private static void close(List<AutoCloseable> open) {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // closing only
            }
        }
    }

    private static InetAddress address(String a) {
        try {
            return InetAddress.getByName(a);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
