package mptcp.agent;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import mptcp.agent.config.Rules;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Applies the {@link Rules} ({@code rules}, {@code loopback}) to a socket just before the JDK connects or binds it: when
 * the first matching rule says {@code tcp} and the socket is MPTCP, it becomes plain TCP with its state kept
 * ({@link Sock#convert}: fd number, options, blocking mode, bound address), then the JDK's call proceeds.
 *
 * <p>Cost: when no rule says tcp for the scope, nothing; otherwise a few comparisons on the address as primitives (an
 * IPv4 address is its {@code Inet4Address.hashCode()}; an IPv6 one is read from the {@code Inet6Address}'s own bytes,
 * not copied), no allocation; a socket kept TCP costs one getsockopt plus the conversion. Never throws into the
 * application: a failure leaves the socket as it was.
 */
public final class Decisions {
    /** Connections and listeners kept TCP by a rule, in total and per rule (index in the active rules). */
    static final LongAdder CONNECTIONS_TCP_RULE = new LongAdder();
    static final LongAdder LISTENERS_TCP_RULE = new LongAdder();
    private static volatile LongAdder[] perRule = new LongAdder[0];
    private static volatile Rules rules = Rules.loopback(true);

    /**
     * What the agent knows of each socket the JDK made, by fd number: {@link #FRESH} (made MPTCP by the agent, and since
     * then no option set and not bound, as far as the JDK's own calls show), {@link #KEPT_TCP} (made TCP by a rule) or
     * 0 (nothing known). Every way the JDK gets a socket fd (socket0, accept) resets its entry, so a reused fd number
     * never inherits an old state. A fresh socket is turned into TCP without reading its options (there are none to
     * carry): about 10 syscalls instead of 30. fds beyond {@link #MAX_TRACKED} are not tracked (always the full way).
     */
    private static volatile byte[] state = new byte[1024];
    static final byte KEPT_TCP = 1;
    /** Fresh: bit 2, plus bit 3 for AF_INET6 (dual stack) and bit 4 for SO_REUSEADDR (listeners), as made. */
    static final byte FRESH = 4;
    static final byte FRESH_INET6 = 8;
    static final byte FRESH_REUSE = 16;
    private static final int MAX_TRACKED = 1 << 22;

    /** Destinations (rule + address + port) already named in an INFO line; bounded. */
    private static final Set<String> NAMED = ConcurrentHashMap.newKeySet();
    private static final int MAX_NAMED = 1024;


    private Decisions() {
    }

    static void configure(Rules r) {
        LongAdder[] counts = new LongAdder[r.list().size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
        perRule = counts;
        rules = r;
    }

    static Rules rules() {
        return rules;
    }

    /** How many sockets rule {@code index} kept TCP. */
    static long count(int index) {
        LongAdder[] c = perRule;
        return index < c.length ? c[index].sum() : 0;
    }

    /** The JDK got socket {@code fd} (made by the JDK itself, or accepted): nothing known about it. */
    static void unknown(int fd) {
        set(fd, (byte) 0);
    }

    /** The agent made {@code fd} an MPTCP socket of this domain (AF_INET6 dual stack or AF_INET), with SO_REUSEADDR or not. */
    static void createdMptcp(int fd, boolean inet6, boolean reuse) {
        set(fd, (byte) (FRESH | (inet6 ? FRESH_INET6 : 0) | (reuse ? FRESH_REUSE : 0)));
    }

    /** An option was set on {@code fd}, or it is being bound: it is no longer fresh. */
    static void touched(int fd) {
        byte[] s = state;
        if (fd >= 0 && fd < s.length && (s[fd] & FRESH) != 0) {
            s[fd] = 0;
        }
    }

    /**
     * True when a rule made {@code fd} TCP just before it connected or was bound: no need to ask the kernel what it
     * (or a connection accepted from it) negotiated.
     */
    static boolean keptTcp(int fd) {
        byte[] s = state;
        return fd >= 0 && fd < s.length && s[fd] == KEPT_TCP;
    }

    private static void set(int fd, byte value) {
        byte[] s = state;
        if (fd < 0 || fd >= MAX_TRACKED) {
            return;
        }
        if (fd >= s.length) {
            if (value == 0) {
                return;
            }
            synchronized (Decisions.class) {
                s = state;
                if (fd >= s.length) {
                    s = java.util.Arrays.copyOf(s, Math.min(MAX_TRACKED, Math.max(fd + 1, s.length * 2)));
                    state = s;
                }
            }
        }
        s[fd] = value;
    }

    private static byte get(int fd) {
        byte[] s = state;
        return fd >= 0 && fd < s.length ? s[fd] : 0;
    }

    /** Before {@code Net.connect0}: the destination decides. */
    static void beforeConnect(FileDescriptor fd, InetAddress remote, int port) {
        Rules r = rules;
        if (r.decidesConnect()) {
            decide(r, false, fd, remote, port);
        }
    }

    /** Before {@code Net.bind0}: the local address and port decide. */
    static void beforeBind(FileDescriptor fd, InetAddress local, int port) {
        Rules r = rules;
        if (r.decidesBind()) {
            decide(r, true, fd, local, port);
        }
    }

    private static void decide(Rules r, boolean bind, FileDescriptor fd, InetAddress address, int port) {
        try {
            int i = match(r, bind, address, port);
            if (i == Rules.NONE) {
                return;
            }
            if (!r.tcp(i)) {
                named(r, i, address, port, "MPTCP");
                return;
            }
            int s = Kernel.fdVal(fd);
            int rc;
            byte known = get(s);
            if ((known & FRESH) != 0) {
                // nothing set on it yet: no options or address to carry
                boolean inet6 = (known & FRESH_INET6) != 0;
                rc = Sock.replaceFresh(s, inet6 ? LibC.AF_INET6 : LibC.AF_INET, 0, inet6, (known & FRESH_REUSE) != 0);
            } else if (Sock.protocol(s) != LibC.IPPROTO_MPTCP) {
                return; // already TCP (mode, fallback, an earlier bind rule)
            } else {
                rc = Sock.convert(s, 0);
            }
            if (rc != 0) {
                Log.once(Log.Level.WARN, "rule-convert", "could not keep a socket TCP as rule '" + r.get(i) + "' says ("
                        + Errno.describe(-rc) + "); it stays MPTCP");
                return;
            }
            set(s, KEPT_TCP);
            (bind ? LISTENERS_TCP_RULE : CONNECTIONS_TCP_RULE).increment();
            LongAdder[] c = perRule;
            if (i < c.length) {
                c[i].increment();
            }
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + s + ": " + (bind ? "bind to " : "connect to ") + where(address, port)
                        + ": plain TCP by rule '" + r.get(i) + "'");
            }
            named(r, i, address, port, "plain TCP");
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "rule-decide", "cannot apply the rules (" + t + "); sockets stay as they are");
        }
    }

    /** The first rule matching; allocates nothing. */
    static int match(Rules r, boolean bind, InetAddress address, int port) throws Throwable {
        if (address instanceof Inet4Address) {
            return r.match4(bind, address.hashCode(), port); // Inet4Address.hashCode() is the address
        }
        MethodHandle bytes = V6.BYTES;
        byte[] b = bytes != null ? (byte[]) bytes.invokeExact((Inet6Address) address) : address.getAddress();
        return r.match(bind, Rules.longAt(b, 0), Rules.longAt(b, 8), port);
    }

    /** One INFO line per rule and destination (connect) or local address and port (bind). */
    private static void named(Rules r, int i, InetAddress address, int port, String outcome) {
        if (!Log.enabled(Log.Level.INFO) || NAMED.size() >= MAX_NAMED) {
            return;
        }
        boolean bind = r.get(i).bind;
        String what = (bind ? "sockets bound to " : "connections to ") + where(address, port);
        if (NAMED.add(i + " " + what)) {
            Log.info(what + ": " + outcome + " by rule '" + r.get(i) + "' (" + r.get(i).origin + "); once per "
                    + (bind ? "address" : "destination"));
        }
    }

    private static String where(InetAddress a, int port) {
        String host = a.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Replaces {@code Net.bind0}: the rules first, then the JDK's bind. */
    public static void bind0(FileDescriptor fd, boolean preferIPv6, boolean useExclBind, InetAddress addr, int port)
            throws Throwable {
        beforeBind(fd, addr, port);
        Instrumenter.BIND0.original.invokeExact(fd, preferIPv6, useExclBind, addr, port);
        int s = Kernel.fdVal(fd);
        if (!keptTcp(s)) {
            touched(s); // bound: from now on converted the full way, keeping the address
        }
    }

    /** jdk.net's keepalive options (Linux), which do not pass through Net.setIntOption0: the socket is not fresh. */
    public static void setTcpKeepAliveProbes0(int fd, int value) throws Throwable {
        touched(fd);
        Instrumenter.SET_KEEPALIVE_PROBES0.original.invokeExact(fd, value);
    }

    public static void setTcpKeepAliveTime0(int fd, int value) throws Throwable {
        touched(fd);
        Instrumenter.SET_KEEPALIVE_TIME0.original.invokeExact(fd, value);
    }

    public static void setTcpKeepAliveIntvl0(int fd, int value) throws Throwable {
        touched(fd);
        Instrumenter.SET_KEEPALIVE_INTVL0.original.invokeExact(fd, value);
    }

    /**
     * (Inet6Address) -> its address bytes, not a copy; null when the JDK does not let us read them (then
     * getAddress(), which copies). Initialised at the first IPv6 match, after java.net was opened to the agent.
     */
    private static final class V6 {
        static final MethodHandle BYTES = ipv6Bytes();
    }

    private static MethodHandle ipv6Bytes() {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(Inet6Address.class, MethodHandles.lookup());
            Class<?> holder = Class.forName("java.net.Inet6Address$Inet6AddressHolder");
            MethodHandle h = lookup.findGetter(Inet6Address.class, "holder6", holder);
            MethodHandle a = MethodHandles.privateLookupIn(holder, MethodHandles.lookup()).findGetter(holder, "ipaddress", byte[].class);
            return MethodHandles.filterReturnValue(h, a).asType(MethodType.methodType(byte[].class, Inet6Address.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("IPv6 addresses are matched through getAddress() (a copy): " + e);
            return null;
        }
    }
}
