package mptcp.agent.jdk;

import java.lang.instrument.Instrumentation;
import java.util.List;

import mptcp.agent.engine.Engine;
import mptcp.agent.engine.InterceptionModule;
import mptcp.agent.engine.Redirect;
import mptcp.agent.engine.TransformCache;
import mptcp.agent.policy.Policy;

/**
 * The JDK module: every interception point of the JDK's socket layer, as one table. Each {@link Redirect} names a
 * native method of the JDK and the JDK classes that call it; those call sites go to the handler of the same name in
 * {@link JdkSockets} (creation, connections) or {@link JdkOptions} (socket options, urgent data), which applies the
 * socket policy around the JDK's own call.
 * <ul>
 *   <li>{@code sun.nio.ch.Net.socket0(preferIPv6, stream, reuse, fastLoopback)}: where every NIO-based TCP socket is
 *       made: {@code Socket}/{@code ServerSocket} (NioSocketImpl), {@code SocketChannel}, {@code ServerSocketChannel},
 *       the asynchronous channels.</li>
 *   <li>JDK 17's legacy {@code java.net.PlainSocketImpl} ({@code -Djdk.net.usePlainSocketImpl=true}): its native
 *       {@code socketCreate(stream, isServer)}, after which the fresh socket's protocol is swapped, and
 *       {@code socketSendUrgentData}, refused on MPTCP sockets; its {@code socketConnect} and {@code socketAccept},
 *       after which the connection is classified and counted as on the NIO path.</li>
 *   <li>connections: {@code connect0} (connected at once), {@code pollConnect}, the async {@code checkConnect},
 *       {@code accept}; options: {@code setIntOption0}, {@code getIntOption0}, {@code sendOOB} and jdk.net's
 *       {@code LinuxSocketOptions} quick-ack and don't-fragment natives (the latter JDK 19+), and its keepalive
 *       setters (only to know the socket is no longer fresh, see {@code Decisions}).</li>
 *   <li>the connection rules: {@code connect0} and {@code bind0} first let {@code Decisions} turn the socket into
 *       plain TCP when a rule says so (by destination; by local address and port).</li>
 * </ul>
 * The trampoline lives in {@code sun.nio.ch} (see the engine); none of these classes is loaded by the agent: each is
 * rewritten when the application first loads it (or at once after an attach, when it already has).
 */
public final class JdkModule implements InterceptionModule {
    private static final String NET = "sun/nio/ch/Net";
    private static final String NIO_SOCKET = "sun/nio/ch/NioSocketImpl";
    private static final String CHANNEL = "sun/nio/ch/SocketChannelImpl";
    private static final String SERVER_CHANNEL = "sun/nio/ch/ServerSocketChannelImpl";
    private static final String ASYNC_CHANNEL = "sun/nio/ch/UnixAsynchronousSocketChannelImpl";
    private static final String ASYNC_SERVER_CHANNEL = "sun/nio/ch/UnixAsynchronousServerSocketChannelImpl";
    private static final String LEGACY = "java/net/PlainSocketImpl";
    private static final String LEGACY_BASE = "java/net/AbstractPlainSocketImpl";
    private static final String LINUX_OPTIONS = "jdk/net/LinuxSocketOptions";
    private static final String FD = "Ljava/io/FileDescriptor;";

    /** Socket creation. */
    static final Redirect SOCKET0 = Redirect.ofStatic(NET, "socket0", "(ZZZZ)I", JdkSockets.class, NET);
    static final Redirect SOCKET_CREATE = Redirect.ofInstance(LEGACY, "socketCreate", "(ZZ)V", JdkSockets.class, LEGACY);
    /** Outgoing connections: connected at once (returns 1), or later via pollConnect / the async checkConnect. */
    static final Redirect CONNECT0 = Redirect.ofStatic(NET, "connect0", "(Z" + FD + "Ljava/net/InetAddress;I)I",
            JdkSockets.class, NET);
    /** JDK 17's legacy PlainSocketImpl connects and binds in its own natives: the rules decide there too. */
    static final Redirect SOCKET_CONNECT = Redirect.ofInstance(LEGACY_BASE, "socketConnect", "(Ljava/net/InetAddress;II)V",
            JdkSockets.class, LEGACY_BASE);
    static final Redirect SOCKET_BIND = Redirect.ofInstance(LEGACY_BASE, "socketBind", "(Ljava/net/InetAddress;I)V",
            JdkSockets.class, LEGACY_BASE);
    /** Binding (listeners, and clients that bind first): the rules decide before the JDK binds. */
    static final Redirect BIND0 = Redirect.ofStatic(NET, "bind0", "(" + FD + "ZZLjava/net/InetAddress;I)V",
            JdkSockets.class, NET);
    static final Redirect POLL_CONNECT = Redirect.ofStatic(NET, "pollConnect", "(" + FD + "J)Z", JdkSockets.class,
            NET, NIO_SOCKET);
    static final Redirect CHECK_CONNECT = Redirect.ofStatic(ASYNC_CHANNEL, "checkConnect", "(I)V", JdkSockets.class,
            ASYNC_CHANNEL);
    /** JDK 17's legacy PlainSocketImpl: its connect and accept natives, for counting those connections. */
    static final Redirect SOCKET_ACCEPT = Redirect.ofInstance(LEGACY_BASE, "socketAccept", "(Ljava/net/SocketImpl;)V",
            JdkSockets.class, LEGACY_BASE);
    /** Accepted connections. */
    static final Redirect ACCEPT = Redirect.ofStatic(NET, "accept", "(" + FD + FD + "[Ljava/net/InetSocketAddress;)I",
            JdkSockets.class, NIO_SOCKET, SERVER_CHANNEL, ASYNC_SERVER_CHANNEL);
    /** Socket options set through java.net / java.nio (all int-valued options end here), and urgent data. */
    static final Redirect SET_INT_OPTION0 = Redirect.ofStatic(NET, "setIntOption0", "(" + FD + "ZIIIZ)V",
            JdkOptions.class, NET);
    static final Redirect GET_INT_OPTION0 = Redirect.ofStatic(NET, "getIntOption0", "(" + FD + "ZII)I",
            JdkOptions.class, NET);
    static final Redirect SEND_OOB = Redirect.ofStatic(NET, "sendOOB", "(" + FD + "B)I", JdkOptions.class,
            NIO_SOCKET, CHANNEL);
    static final Redirect SOCKET_SEND_URGENT_DATA = Redirect.ofInstance(LEGACY_BASE, "socketSendUrgentData", "(I)V",
            JdkOptions.class, LEGACY_BASE);
    /** jdk.net's extended options (module jdk.net, platform loader). */
    static final Redirect SET_QUICK_ACK0 = Redirect.ofStatic(LINUX_OPTIONS, "setQuickAck0", "(IZ)V", JdkOptions.class,
            LINUX_OPTIONS);
    static final Redirect GET_QUICK_ACK0 = Redirect.ofStatic(LINUX_OPTIONS, "getQuickAck0", "(I)Z", JdkOptions.class,
            LINUX_OPTIONS);
    static final Redirect SET_IP_DONT_FRAGMENT0 = Redirect.ofStatic(LINUX_OPTIONS, "setIpDontFragment0", "(IZZ)V",
            JdkOptions.class, LINUX_OPTIONS);
    static final Redirect GET_IP_DONT_FRAGMENT0 = Redirect.ofStatic(LINUX_OPTIONS, "getIpDontFragment0", "(IZ)Z",
            JdkOptions.class, LINUX_OPTIONS);
    /** jdk.net's keepalive setters: only so that the rules know the socket is no longer fresh. */
    static final Redirect SET_KEEPALIVE_PROBES0 = Redirect.ofStatic(LINUX_OPTIONS, "setTcpKeepAliveProbes0", "(II)V",
            JdkOptions.class, LINUX_OPTIONS);
    static final Redirect SET_KEEPALIVE_TIME0 = Redirect.ofStatic(LINUX_OPTIONS, "setTcpKeepAliveTime0", "(II)V",
            JdkOptions.class, LINUX_OPTIONS);
    static final Redirect SET_KEEPALIVE_INTVL0 = Redirect.ofStatic(LINUX_OPTIONS, "setTcpKeepAliveIntvl0", "(II)V",
            JdkOptions.class, LINUX_OPTIONS);

    static final List<Redirect> REDIRECTS = List.of(SOCKET0, CONNECT0, POLL_CONNECT, CHECK_CONNECT, ACCEPT,
            SET_INT_OPTION0, GET_INT_OPTION0, SEND_OOB, SET_QUICK_ACK0, GET_QUICK_ACK0, SET_IP_DONT_FRAGMENT0,
            GET_IP_DONT_FRAGMENT0, BIND0, SET_KEEPALIVE_PROBES0, SET_KEEPALIVE_TIME0, SET_KEEPALIVE_INTVL0);
    /**
     * Socket close, for the per-path accounting ({@code paths=on}): the natives the JDK's socket dispatcher closes and
     * pre-closes a socket with. JDK 17-20: {@code FileDispatcherImpl}'s, called from {@code SocketDispatcher} (used by
     * NioSocketImpl, the socket channels and the asynchronous ones); JDK 21+: {@code UnixDispatcher}'s own (the
     * superclass of {@code SocketDispatcher}, also of the datagram dispatcher: those fds are not connections followed,
     * and cost one array read). One pair per JVM: the handlers have one name each.
     */
    static final Redirect PRE_CLOSE0;
    static final Redirect CLOSE0;

    static {
        boolean unix = Runtime.version().feature() >= 21;
        String owner = unix ? "sun/nio/ch/UnixDispatcher" : "sun/nio/ch/FileDispatcherImpl";
        String caller = unix ? "sun/nio/ch/UnixDispatcher" : "sun/nio/ch/SocketDispatcher";
        PRE_CLOSE0 = Redirect.ofStatic(owner, "preClose0", "(" + FD + ")V", JdkClose.class, caller);
        CLOSE0 = Redirect.ofStatic(owner, "close0", "(" + FD + ")V", JdkClose.class, caller);
    }

    static final List<Redirect> CLOSE_REDIRECTS = List.of(PRE_CLOSE0, CLOSE0);

    /** JDK 17's legacy PlainSocketImpl. */
    static final List<Redirect> LEGACY_REDIRECTS = List.of(SOCKET_CREATE, SOCKET_CONNECT, SOCKET_BIND, SOCKET_ACCEPT,
            SOCKET_SEND_URGENT_DATA);

    /**
     * Whether this JVM uses the legacy PlainSocketImpl: JDK 17 with {@code -Djdk.net.usePlainSocketImpl} set empty or
     * to true (java.net.SocketImpl reads it the same way; JDK 18+ has no PlainSocketImpl). Otherwise its redirects are
     * left out, so that its two classes are neither loaded nor rewritten at start-up.
     */
    static boolean legacyInUse() {
        String v = System.getProperty("jdk.net.usePlainSocketImpl");
        return Runtime.version().feature() < 18 && v != null && (v.isEmpty() || v.equalsIgnoreCase("true"));
    }

    @Override
    public String name() {
        return "jdk";
    }

    @Override
    public void install(Instrumentation inst) throws Exception {
        // java.net and java.io to this module alone: the rules read an Inet6Address's bytes without copying them
        // (policy.Decisions), JdkFds a FileDescriptor's fd
        Module self = JdkModule.class.getModule();
        Engine.open(inst, Object.class.getModule(), java.util.Set.of("java.net", "java.io"), self);
        List<Redirect> redirects = REDIRECTS;
        if (legacyInUse()) {
            redirects = new java.util.ArrayList<>(REDIRECTS);
            redirects.addAll(LEGACY_REDIRECTS);
        }
        if (Policy.closesHooked()) {
            redirects = new java.util.ArrayList<>(redirects);
            redirects.addAll(CLOSE_REDIRECTS);
        }
        // the trampoline goes next to sun.nio.ch.DirectBuffer: same package as Net, and loaded with java.nio at boot
        TransformCache cache = TransformCache.open(); // NONE with cache=off (Policy.warmUpNative)
        Engine.install(inst, "sun.nio.ch.DirectBuffer", redirects, SOCKET0, cache);
    }

    /**
     * At the application's first socket (its socket0, called from sun.nio.ch.Net, loaded and initialised by then):
     * the warm-up thread looks up the other natives of Net a first socket usually calls next (Redirect.original: a
     * method handle and its lambda forms, a few ms each, spun once per JVM), while this thread goes on making the
     * socket; a JVM that never makes a socket never pays for them. Only classes already loaded are looked into: the
     * warm-up thread must not load (and so transform, and log about) classes the application's threads may be
     * loading. A class, not a lambda: none spun at start-up.
     */
    static void prepareOnce() {
        if (!prepared) {
            prepared = true;
            Policy.prepare(new Prepare());
        }
    }

    private static volatile boolean prepared;

    private static final class Prepare implements Runnable {
        @Override
        public void run() {
            for (Redirect r : List.of(BIND0, SET_INT_OPTION0, GET_INT_OPTION0, CONNECT0, ACCEPT)) {
                r.original();
            }
        }
    }
}
