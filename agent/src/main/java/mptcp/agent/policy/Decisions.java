package mptcp.agent.policy;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import mptcp.agent.config.AddressPrefix;
import mptcp.agent.config.Rules;
import mptcp.agent.log.Log;
import mptcp.agent.os.EpollRegistrations;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.Swap;

/**
 * Applies the {@link Rules} ({@code rules}, {@code loopback}) to a socket just before a library connects or binds it:
 * when the first matching rule says {@code tcp} and the socket is MPTCP, it becomes plain TCP with its state kept, then
 * the library's call proceeds. The address comes as primitives: an IPv4 address as an int (a.b.c.d = a << 24 | ...),
 * an IPv6 one as two big-endian longs.
 *
 * <p>Cost: when no rule says tcp for the scope, nothing; otherwise a few comparisons, no allocation. A socket kept TCP
 * costs a conversion: for a socket the agent made and nothing was set on since ({@link #FRESH}: no option, not bound),
 * {@link Swap#replaceFresh} (about 6 syscalls); otherwise one getsockopt plus {@link Swap#convert} (about 30: options
 * and bound address carried). A library's socket set up where the agent cannot see (Netty's native transports, whose
 * event loop may watch it through epoll before it is bound or connected) is always converted the full way, and its
 * epoll registration, which the swap drops, is added again after (as the library reported it, {@link #epollCtl}: no
 * syscall to learn it). A library's client socket that the agent made plain TCP because its destination was expected
 * to be kept TCP ({@link #madeByLibrary}) costs nothing when it is, and is made MPTCP the same way when it is not
 * ({@link #mptcpAfterAll}). Never throws into the application: a failure leaves the socket as it was.
 */
public final class Decisions {
    /** Connections and bound sockets (listeners) kept TCP by a rule. */
    public static final LongAdder CONNECTIONS_TCP_RULE = new LongAdder();
    public static final LongAdder LISTENERS_TCP_RULE = new LongAdder();
    private static volatile LongAdder[] perRule = new LongAdder[0];
    private static volatile Rules rules = Rules.loopback(true);

    /**
     * What the agent knows of each socket by fd number: {@link #FRESH} (+ how it was made), {@link #KEPT_TCP} (made TCP
     * by a rule), {@link #LIBRARY_MPTCP} or {@link #LIBRARY_TCP} (a library's socket the agent made), or 0 (nothing
     * known). Every way a library gets a socket fd that the agent sees (creation, accept)
     * resets the entry, so a reused fd number never inherits an old state; every option set or bind seen clears
     * {@link #FRESH}. fds from {@link #MAX_TRACKED} up are not tracked (always the full conversion).
     */
    private static volatile byte[] state = new byte[1024];
    static final byte KEPT_TCP = 1;
    /** A library's socket the agent made MPTCP, configured where the agent cannot see (no {@link Sock#protocol} needed). */
    static final byte LIBRARY_MPTCP = 2;
    /**
     * A library's client socket the agent made plain TCP, expecting the rules to keep its destination TCP: kept TCP at
     * its connect when they do, made MPTCP there when they do not ({@link #mptcpAfterAll}).
     */
    static final byte LIBRARY_TCP = 3;
    /** {@link #LIBRARY_TCP} with an option set that MPTCP lacks and that cannot be carried ({@link #tcpOnly}). */
    static final byte LIBRARY_TCP_ONLY = 32;
    static final byte FRESH = 4;
    static final byte FRESH_INET6 = 8;
    static final byte FRESH_REUSE = 16;
    private static final int MAX_TRACKED = 1 << 22;

    /**
     * How a socket is watched, for {@link #beforeConnect(int, InetAddress, int, int)}: a socket the agent made and saw
     * configured (the JDK's; nothing watches it before connect or bind that the swap could upset, see docs/rules.md).
     */
    public static final int OWN = 0;
    /** A library socket that no epoll instance watches (io_uring's ring keeps no registration). */
    public static final int UNWATCHED = 1;
    /** A library socket whose epoll registrations the library reports ({@link #epollCtl}): at most one. */
    public static final int REPORTED = 2;
    /** A library socket that epoll instances the agent does not know of may watch: all are looked up. */
    public static final int WATCHED = 3;

    /** Rule and destination (or bound address) already named in an INFO line; bounded. */
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

    public static Rules rules() {
        return rules;
    }

    /** How many sockets rule {@code index} kept TCP. */
    public static long count(int index) {
        LongAdder[] c = perRule;
        return index < c.length ? c[index].sum() : 0;
    }

    /** The agent made {@code fd} an MPTCP socket of this domain (AF_INET6 dual stack, or AF_INET), with SO_REUSEADDR or not. */
    static void createdMptcp(int fd, boolean inet6, boolean reuse) {
        set(fd, (byte) (FRESH | (inet6 ? FRESH_INET6 : 0) | (reuse ? FRESH_REUSE : 0)));
        unwatched(fd);
    }

    /** A library got socket {@code fd} some other way (made it itself, accepted it): nothing known about it. */
    public static void unknown(int fd) {
        set(fd, (byte) 0);
        unwatched(fd);
    }

    /**
     * The agent made library socket {@code fd} (configured by the library where the agent cannot see): MPTCP, or
     * plain TCP for a client whose destination the rules are expected to keep TCP ({@link #LIBRARY_TCP}).
     */
    public static void madeByLibrary(int fd, boolean mptcp) {
        set(fd, mptcp ? LIBRARY_MPTCP : LIBRARY_TCP);
        unwatched(fd);
    }

    /**
     * An option MPTCP lacks and whose value the kernel cannot report (TCP_MD5SIG) is being set on library socket
     * {@code fd}: if the agent made it plain TCP on a guess, it stays TCP whatever its destination. Allocates nothing.
     */
    public static void tcpOnly(int fd) {
        byte[] s = state;
        if (fd >= 0 && fd < s.length && s[fd] == LIBRARY_TCP) {
            s[fd] = LIBRARY_TCP_ONLY;
        }
    }

    private static void unwatched(int fd) {
        EpollRegistrations.forget(fd);
    }

    /**
     * A library changed socket {@code fd}'s registration in epoll instance {@code epfd} with {@code op}
     * (EPOLL_CTL_ADD, _MOD, _DEL) and {@code events}, with the fd as the registration's data (Netty's event loops,
     * which add each channel to their own epoll set and to no other): a conversion of {@code fd} by a rule renews it.
     * Allocates nothing.
     */
    public static void epollCtl(int op, int epfd, int fd, int events) {
        EpollRegistrations.reported(op, epfd, fd, events);
    }

    /** An option is being set on {@code fd}, or it was bound: it is no longer fresh. Allocates nothing. */
    public static void touched(int fd) {
        byte[] s = state;
        if (fd >= 0 && fd < s.length && (s[fd] & FRESH) != 0) {
            s[fd] = 0;
        }
    }

    /**
     * True when a rule made {@code fd} TCP (before its connect or bind): no need to ask the kernel what it, or a
     * connection accepted from it, negotiated.
     */
    public static boolean keptTcp(int fd) {
        byte[] s = state;
        return fd >= 0 && fd < s.length && s[fd] == KEPT_TCP;
    }

    private static void set(int fd, byte value) {
        if (fd < 0 || fd >= MAX_TRACKED) {
            return;
        }
        byte[] s = state;
        if (fd >= s.length) {
            if (value == 0) {
                return;
            }
            synchronized (Decisions.class) {
                s = state;
                if (fd >= s.length) {
                    s = Arrays.copyOf(s, Math.min(MAX_TRACKED, Math.max(fd + 1, s.length * 2)));
                    state = s;
                }
            }
        }
        s[fd] = value;
    }

    /**
     * Whether the connect rules keep a connection to {@code hi:lo} (IPv6 value; IPv4 as ::ffff:a.b.c.d), {@code port}
     * plain TCP; nothing counted or logged (the connect itself is decided by {@link #beforeConnect}). Allocates nothing.
     */
    public static boolean keepsTcp(long hi, long lo, int port) {
        Rules r = rules;
        if (!r.decidesConnect()) {
            return false;
        }
        int i = r.match(false, hi, lo, port);
        return i != Rules.NONE && r.tcp(i);
    }

    /** {@link #keepsTcp(long, long, int)} of {@code address}; allocates nothing. */
    public static boolean keepsTcp(InetAddress address, int port) {
        if (address instanceof Inet4Address) {
            return keepsTcp(0, AddressPrefix.MAPPED | (address.hashCode() & 0xFFFF_FFFFL), port);
        }
        byte[] b = bytes((Inet6Address) address);
        return keepsTcp(Rules.longAt(b, 0), Rules.longAt(b, 8), port);
    }

    /** Whether any rule says tcp for connects; false: {@link #beforeConnect} would do nothing, callers may skip it. */
    public static boolean decidesConnect() {
        return rules.decidesConnect();
    }

    public static boolean decidesBind() {
        return rules.decidesBind();
    }

    /** Before connecting {@code fd} to {@code hi:lo} (IPv6 value; IPv4 as ::ffff:a.b.c.d), {@code port}. */
    public static void beforeConnect(int fd, long hi, long lo, int port) {
        Rules r = rules;
        if (r.decidesConnect()) {
            decide(r, false, fd, hi, lo, port, OWN);
        }
    }

    /** Before binding {@code fd} to {@code hi:lo}, {@code port} (0: any free port). */
    public static void beforeBind(int fd, long hi, long lo, int port) {
        Rules r = rules;
        if (r.decidesBind()) {
            decide(r, true, fd, hi, lo, port, OWN);
        }
    }

    /**
     * Before connecting {@code fd} to {@code address}:{@code port}; allocates nothing. {@code watch}: {@link #OWN}, a
     * socket whose set-up the agent saw (the JDK's: the fresh-socket shortcut applies); otherwise a library made and
     * configured it where the agent cannot see (Netty's native transports) and it is converted the full way, keeping
     * its epoll registrations when an event loop may already watch it: {@link #UNWATCHED}, {@link #REPORTED},
     * {@link #WATCHED}.
     * @return whether a rule keeps the connection plain TCP
     */
    public static boolean beforeConnect(int fd, InetAddress address, int port, int watch) {
        Rules r = rules;
        return r.decidesConnect() && address != null && fd >= 0 && decide(r, false, fd, address, port, watch);
    }

    /** Before binding {@code fd} to {@code address}:{@code port}; {@code watch} as for {@link #beforeConnect}. */
    public static void beforeBind(int fd, InetAddress address, int port, int watch) {
        Rules r = rules;
        if (r.decidesBind() && address != null && fd >= 0) {
            decide(r, true, fd, address, port, watch);
        }
    }

    /**
     * The address as primitives for the rules, allocating nothing: an Inet4Address's hashCode() is its address; an
     * Inet6Address's bytes are read in place (not copied by getAddress()) when java.net is open to the agent (the JDK
     * module opens it).
     */
    private static boolean decide(Rules r, boolean bind, int fd, InetAddress address, int port, int watch) {
        long hi;
        long lo;
        if (address instanceof Inet4Address) {
            hi = 0;
            lo = AddressPrefix.MAPPED | (address.hashCode() & 0xFFFF_FFFFL);
        } else {
            byte[] b = bytes((Inet6Address) address);
            hi = Rules.longAt(b, 0);
            lo = Rules.longAt(b, 8);
        }
        return decide(r, bind, fd, hi, lo, port, watch);
    }

    /** The address's own bytes, not a copy, when java.net is open to the agent; otherwise getAddress(). */
    private static byte[] bytes(Inet6Address address) {
        try {
            MethodHandle bytes = V6.BYTES;
            return bytes != null ? (byte[]) bytes.invokeExact(address) : address.getAddress();
        } catch (Throwable t) {
            return address.getAddress();
        }
    }

    /** (Inet6Address) -> its own address bytes; null when java.net is not open to the agent (then getAddress()). */
    private static final class V6 {
        static final MethodHandle BYTES = bytes();

        private static MethodHandle bytes() {
            try {
                MethodHandles.Lookup own = MethodHandles.lookup();
                Class<?> holder = Class.forName("java.net.Inet6Address$Inet6AddressHolder");
                MethodHandle h = MethodHandles.privateLookupIn(Inet6Address.class, own).findGetter(Inet6Address.class, "holder6", holder);
                MethodHandle a = MethodHandles.privateLookupIn(holder, own).findGetter(holder, "ipaddress", byte[].class);
                return MethodHandles.filterReturnValue(h, a).asType(MethodType.methodType(byte[].class, Inet6Address.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                Log.debug("IPv6 destinations are matched through getAddress() (a copy): " + e);
                return null;
            }
        }
    }

    /** TCP_USER_TIMEOUT (linux/tcp.h): not an option of MPTCP sockets. */
    private static final int TCP_USER_TIMEOUT = 18;

    /** Returned by {@link #convertWatched} when the socket's epoll registrations could not be read. */
    private static final int UNREADABLE = Integer.MIN_VALUE;
    /** Returned by {@link #convertWatched} when they could not be added again (the socket was turned back to MPTCP). */
    private static final int NOT_RENEWED = Integer.MIN_VALUE + 1;
    /** As {@link #NOT_RENEWED}, and turning the socket back failed too. */
    private static final int LOST = Integer.MIN_VALUE + 2;

    /** Decides; returns whether a rule says plain TCP (whatever became of the socket). */
    private static boolean decide(Rules r, boolean bind, int fd, long hi, long lo, int port, int watch) {
        try {
            int i = r.match(bind, hi, lo, port);
            if (i == Rules.NONE) {
                return false;
            }
            if (!r.tcp(i)) {
                named(r, i, hi, lo, port, "MPTCP");
                return false;
            }
            if (Policy.nativeBroken) {
                return true; // no MPTCP socket can exist; the failure was reported once by Sockets
            }
            byte[] s = state;
            byte known = fd >= 0 && fd < s.length ? s[fd] : 0;
            int rc;
            if (watch == OWN && (known & FRESH) != 0) {
                // made by the agent and untouched since: no options or address to carry
                boolean inet6 = (known & FRESH_INET6) != 0;
                int domain = inet6 ? LibC.AF_INET6 : LibC.AF_INET;
                if ((known & FRESH_REUSE) != 0) {
                    rc = Swap.replaceFresh(fd, domain, 0, inet6, true);
                } else {
                    // the MPTCP socket, still fresh, serves the next client socket instead of being closed
                    int spare = Swap.replaceFreshKeeping(fd, domain, 0, inet6);
                    rc = spare < 0 && spare != Swap.NOT_KEPT ? spare : 0;
                    if (spare >= 0) {
                        Spares.give(spare, inet6);
                    }
                }
            } else if (known == LIBRARY_TCP || known == LIBRARY_TCP_ONLY) {
                rc = 0; // made TCP for this destination: nothing to convert
            } else if (known == KEPT_TCP || known != LIBRARY_MPTCP && Sock.protocol(fd) != LibC.IPPROTO_MPTCP) {
                return true; // already TCP (mode, fallback, an earlier rule, a library's own socket)
            } else if (watch != OWN) {
                rc = convertWatched(fd, watch, 0);
            } else {
                rc = Swap.convert(fd, 0);
            }
            if (rc != 0) {
                String why = rc == UNREADABLE ? "its epoll registrations cannot be read"
                        : rc == NOT_RENEWED || rc == LOST ? "its epoll registration could not be added again" : Errno.describe(-rc);
                Log.once(Log.Level.WARN, "rule-convert", "could not keep a socket TCP as rule '" + r.get(i) + "' says ("
                        + why + "); it stays MPTCP" + (rc == LOST ? ", but turning it back to MPTCP failed too: its"
                        + " event loop may miss its events" : ""));
                return true;
            }
            set(fd, KEPT_TCP);
            (bind ? LISTENERS_TCP_RULE : CONNECTIONS_TCP_RULE).increment();
            LongAdder[] c = perRule;
            if (i < c.length) {
                c[i].increment();
            }
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + fd + ": " + (bind ? "bind to " : "connect to ") + where(hi, lo, port)
                        + ": plain TCP by rule '" + r.get(i) + "'" + (known == LIBRARY_TCP || known == LIBRARY_TCP_ONLY ? " (made so at creation)" : ""));
            }
            named(r, i, hi, lo, port, "plain TCP");
            return true;
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "rule-decide", "cannot apply the rules (" + t + "); sockets stay as they are");
            return false;
        }
    }

    /**
     * Just before a library's client socket connects, once {@link #beforeConnect} found no rule keeping it plain TCP:
     * a socket the agent made TCP expecting one to ({@link #LIBRARY_TCP}) becomes MPTCP now, keeping its options, its
     * bound address and (see {@link #convertWatched}) its epoll registration; any other socket is left alone. When the
     * kernel refuses MPTCP, the socket stays TCP and the refusal is handled as at creation ({@code fallback}).
     * @throws SocketException with {@code fallback=fail}, when the kernel refuses MPTCP
     */
    public static void mptcpAfterAll(int fd, int watch) throws SocketException {
        byte[] s = state;
        byte known = fd >= 0 && fd < s.length ? s[fd] : 0;
        if (known != LIBRARY_TCP && known != LIBRARY_TCP_ONLY || Policy.nativeBroken) {
            return;
        }
        s[fd] = 0; // whatever happens next, not to be tried again
        // set on the TCP socket, and MPTCP has neither: the application's option would be lost
        String only = known == LIBRARY_TCP_ONLY ? "TCP_MD5SIG"
                : Sock.getInt(fd, LibC.SOL_TCP, TCP_USER_TIMEOUT) > 0 ? "TCP_USER_TIMEOUT" : null;
        if (only != null) {
            Stats.optionConversion(only + " tcp");
            Log.once(Log.Level.INFO, "option " + only + " tcp", only + ": set before connect on a socket that would"
                    + " become MPTCP, which has no " + only + ": the connection stays plain TCP");
            return;
        }
        int rc = convertWatched(fd, watch, LibC.IPPROTO_MPTCP);
        if (rc == 0) {
            set(fd, LIBRARY_MPTCP);
            Stats.SOCKETS_MPTCP.increment();
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + fd + ": made MPTCP before its connect (made plain TCP for a destination expected to"
                        + " be kept TCP)");
            }
        } else if (rc < 0 && rc > LOST && Sockets.unavailable(-rc)) {
            Sockets.refused(-rc);
        } else {
            Log.once(Log.Level.WARN, "netty-mptcp", "could not make a connection MPTCP (" + (rc == UNREADABLE
                    ? "its epoll registrations cannot be read" : rc == NOT_RENEWED || rc == LOST
                    ? "its epoll registration could not be added again" : Errno.describe(-rc)) + "); it stays plain TCP");
        }
    }

    /**
     * {@link Swap#convert} of a library's socket to {@code protocol} (0: TCP), keeping its epoll registrations, which
     * the swap drops with the old file: added again after, same events and data, for the new file under the same fd
     * number. {@link #REPORTED}: the registration the library reported ({@link #epollCtl}), no syscall to learn it;
     * {@link #WATCHED}: every epoll fd of the process is read (a /proc/self/fd scan; only until a copy of the library
     * reported its first registration, e.g. just after an attach). If adding them again fails, the socket is turned
     * back into its old protocol and they are added again.
     * @return 0, -errno of the conversion (the socket untouched), or {@link #UNREADABLE}, {@link #NOT_RENEWED},
     *     {@link #LOST}
     */
    private static int convertWatched(int fd, int watch, int protocol) {
        EpollRegistrations epoll;
        if (watch == UNWATCHED) {
            epoll = EpollRegistrations.NONE;
        } else if (watch == REPORTED) {
            epoll = EpollRegistrations.reported(fd);
        } else {
            long inode = EpollRegistrations.inode(fd);
            if (inode < 0) {
                return UNREADABLE;
            }
            epoll = EpollRegistrations.of(fd, inode);
        }
        int rc = Swap.convert(fd, protocol, true);
        if (rc != 0 || epoll.size() == 0 || epoll.addAgain(fd) == 0) {
            if (rc == 0 && epoll.size() > 0 && Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + fd + ": " + epoll.size() + " epoll registration(s) renewed");
            }
            return rc;
        }
        int back = protocol == 0 ? LibC.IPPROTO_MPTCP : 0;
        return Swap.convert(fd, back, true) == 0 && epoll.addAgain(fd) == 0 ? NOT_RENEWED : LOST;
    }

    /**
     * One INFO line per rule and destination (connect) or local address and port (bind), sharing the limit of the
     * destination lines of {@link Connections} (at most 20 a minute).
     */
    private static void named(Rules r, int i, long hi, long lo, int port, String outcome) {
        if (!Log.enabled(Log.Level.INFO) || NAMED.size() >= MAX_NAMED) {
            return;
        }
        boolean bind = r.get(i).bind;
        String what = (bind ? "sockets bound to " : "connections to ") + where(hi, lo, port);
        String key = i + " " + what;
        if (!NAMED.contains(key) && Connections.allowLine() && NAMED.add(key)) { // the same 20 lines a minute
            Log.info(what + ": " + outcome + " by rule '" + r.get(i) + "' (" + r.get(i).origin + "); once per "
                    + (bind ? "address" : "destination"));
        }
    }

    private static String where(long hi, long lo, int port) {
        String host = AddressPrefix.format(hi, lo);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
