package mptcp.agent.policy;

import java.net.SocketException;
import java.util.LinkedHashMap;
import java.util.Map;

import mptcp.agent.config.Config;
import mptcp.agent.log.Log;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.Swap;

/**
 * Socket-option compatibility: keeps socket options and urgent data working on MPTCP sockets as they do on TCP. The
 * library modules run the library's own call first; only when that fails on an MPTCP socket do they ask here what to
 * do ({@link #afterSetFailed}, {@link #afterGetFailed}). With {@code options=compat} (default), in this order:
 * <ol>
 *   <li><b>equivalent</b>: the traffic class of an AF_INET6 socket connected to an IPv4 peer (::ffff:a.b.c.d) is its
 *       IPv4 TOS, which MPTCP supports: set and read as IP_TOS.</li>
 *   <li><b>tcp</b>: the socket is not connected, connecting nor listening yet: it is turned into a plain TCP socket
 *       with its state kept ({@link Swap#convert}: fd number, options, blocking mode, bound address) and the JDK's
 *       call is repeated on it.</li>
 *   <li><b>emulated</b>: on an established MPTCP connection, options that change nothing MPTCP still does are
 *       accepted and remembered per socket (SO_COOKIE) so that reading them back answers what was set: SO_OOBINLINE
 *       (MPTCP carries no urgent data), TCP_QUICKACK (a hint), SO_REUSEADDR/SO_REUSEPORT (only matter for bind).</li>
 *   <li><b>default</b>: reading an option MPTCP cannot report, never successfully set on this socket, answers what a
 *       fresh TCP socket of the same family answers.</li>
 *   <li>otherwise the JDK's exception surfaces (<b>error</b>).</li>
 * </ol>
 * Each outcome is logged once per option per JVM at INFO and counted ({@link Stats#optionDeviation}).
 * {@code options=strict} keeps the JDK's exceptions, as under mptcpize. Urgent data is never written into an MPTCP
 * stream (the kernel would deliver the byte in-band, also after a fallback to TCP): {@link #refuseUrgent} throws instead,
 * in both modes.
 */
public final class SocketOptions {
    /** What a module does after the library's set call failed on an MPTCP socket ({@link #afterSetFailed}). */
    public static final int THROW = 0;
    /** Done: the MPTCP equivalent was set, or the value was remembered (emulated). */
    public static final int DONE = 1;
    /** The socket became plain TCP: repeat the library's call. */
    public static final int RETRY = 2;

    /** Pseudo option numbers for options the JDK sets through their own natives (jdk.net). */
    public static final int DONT_FRAGMENT = -2;

    private static final int SOL_SOCKET = LibC.SOL_SOCKET;
    /** Values accepted without reaching the kernel, by socket cookie, then by option ("SO_OOBINLINE", ...). */
    private static final Map<Long, Map<String, Integer>> REMEMBERED = new LinkedHashMap<Long, Map<String, Integer>>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Map<String, Integer>> eldest) {
            return size() > 4096;
        }
    };
    private static volatile boolean remembering;

    private SocketOptions() {
    }

    /**
     * The library's call setting option {@code level}/{@code opt} to {@code value} on {@code fd} failed with
     * {@code error}: {@link #DONE}, {@link #RETRY} or {@link #THROW}.
     */
    public static int afterSetFailed(int fd, int level, int opt, int value, String error) {
        return afterSetFailed(fd, level, opt, value, error, true);
    }

    /**
     * As {@link #afterSetFailed(int, int, int, int, String)}; with {@code mayBecomeTcp} false the socket is never
     * turned into plain TCP (a library that registered the fd with its own epoll instance, like Netty, would lose that
     * registration with the swap), so {@link #RETRY} is never the answer.
     */
    public static int afterSetFailed(int fd, int level, int opt, int value, String error, boolean mayBecomeTcp) {
        if (!compat() || !mptcp(fd)) {
            return THROW;
        }
        String name = name(level, opt);
        if (isTrafficClass(level, opt) && Sock.ipv4Only(fd) == 1
                && Sock.setInt(fd, LibC.IPPROTO_IP, LibC.IP_TOS, value & 0xFF) == 0) {
            remember(fd, "IP_TOS", value & 0xFF);
            deviation(name, "equivalent", "set as IPv4 TOS: the socket only talks to IPv4 peers (::ffff:a.b.c.d)"
                    + " and MPTCP has no IPV6_TCLASS");
            return DONE;
        }
        if (mayBecomeTcp && toTcp(fd, name)) {
            return RETRY;
        }
        boolean quickAck = level == LibC.SOL_TCP && opt == LibC.TCP_QUICKACK;
        boolean emulable = quickAck
                || level == SOL_SOCKET && (opt == LibC.SO_REUSEADDR || opt == LibC.SO_REUSEPORT)
                || level == SOL_SOCKET && opt == LibC.SO_OOBINLINE && Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_IS_MPTCP) == 1;
        if (emulable && remember(fd, name, value)) {
            deviation(name, "emulated", quickAck
                    ? "accepted and remembered on an established MPTCP connection (a hint MPTCP does not offer)"
                    : "accepted and remembered on an established MPTCP connection, where it has no effect ("
                    + (opt == LibC.SO_OOBINLINE ? "MPTCP carries no urgent data" : "it only matters for bind") + ")");
            return DONE;
        }
        deviation(name, "error", "not supported by MPTCP on a connected or listening socket"
                + (error == null ? "" : ": " + error));
        return THROW;
    }

    /**
     * A value set on {@code fd} without reaching the kernel (emulated, or set as the IPv4 equivalent), or null.
     * Allocates nothing until compat has remembered a value in this JVM.
     */
    public static Integer remembered(int fd, int level, int opt) {
        if (!remembering) {
            return null;
        }
        return remembered(fd, isTrafficClass(level, opt) ? "IP_TOS" : name(level, opt));
    }

    /**
     * The library's call reading option {@code level}/{@code opt} of {@code fd} failed: the IPv4 equivalent's value
     * (&ge; 0), or -1 when the caller should answer with a fresh TCP socket's value ({@link #freshTcp} and
     * {@link #answeredAsFresh}), or -2 to let the error surface.
     */
    public static int afterGetFailed(int fd, int level, int opt) {
        if (!compat() || !mptcp(fd)) {
            return -2;
        }
        int v4tos = isTrafficClass(level, opt) && Sock.ipv4Only(fd) == 1 ? Sock.getInt(fd, LibC.IPPROTO_IP, LibC.IP_TOS) : -1;
        if (v4tos >= 0) {
            deviation(name(level, opt), "equivalent", "read as IPv4 TOS: the socket only talks to IPv4 peers"
                    + " (::ffff:a.b.c.d) and MPTCP has no IPV6_TCLASS");
            return v4tos;
        }
        return -1;
    }

    /** A new TCP socket of {@code fd}'s family, to read the value TCP reports by default; or -errno. Close it after. */
    public static int freshTcp(int fd) {
        int domain = Sock.getInt(fd, SOL_SOCKET, LibC.SO_DOMAIN);
        return domain < 0 ? domain : Sock.open(domain, 0, domain == LibC.AF_INET6, false);
    }

    /** The value of option {@code level}/{@code opt} was answered from {@link #freshTcp}: counted and logged once. */
    public static void answeredAsFresh(int level, int opt) {
        deviation(name(level, opt), "default", level == LibC.SOL_TCP && opt == LibC.TCP_QUICKACK
                ? "read as a fresh TCP socket's value (MPTCP cannot report it)"
                : "read as a fresh TCP socket's value (MPTCP cannot report it; it was never set on this socket)");
    }

    /**
     * Urgent data. MPTCP has none: the kernel ignores MSG_OOB and puts the byte into the stream, also on a connection
     * that fell back to TCP (measured on Linux 6.18), which would silently corrupt the peer's data. So on an MPTCP
     * socket this throws, whatever the options policy; on TCP sockets (e.g. accepted from a plain TCP client) the
     * library's call goes ahead.
     */
    public static void refuseUrgent(int fd) throws SocketException {
        if (mptcp(fd)) {
            deviation("urgent data", "error", "sendUrgentData refused on an MPTCP socket: MPTCP cannot send urgent data"
                    + " and would put the byte into the stream");
            throw new SocketException("Urgent data is not supported on a Multipath TCP connection (mptcp-agent): the"
                    + " byte would arrive in the data stream");
        }
    }

    private static boolean compat() {
        return Policy.config().compatOptions;
    }

    private static boolean mptcp(int fd) {
        return Sock.protocol(fd) == LibC.IPPROTO_MPTCP;
    }

    /** Before connect: turns {@code fd} into plain TCP with its state kept; false when it is too late for that. */
    private static boolean toTcp(int fd, String option) {
        int rc;
        try {
            rc = Swap.convert(fd, 0);
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
        if (rc == 0) {
            deviation(option, "tcp", "the socket became plain TCP (options, blocking mode and bound address kept) because"
                    + " the application set " + option + " before connecting, which MPTCP does not support");
            return true;
        }
        return false;
    }

    private static boolean remember(int fd, String option, int value) {
        long cookie = Sock.cookie(fd);
        if (cookie < 0) {
            return false;
        }
        synchronized (REMEMBERED) {
            REMEMBERED.computeIfAbsent(cookie, k -> new LinkedHashMap<>()).put(option, value);
        }
        remembering = true;
        return true;
    }

    private static Integer remembered(int fd, String option) {
        long cookie = Sock.cookie(fd);
        synchronized (REMEMBERED) {
            Map<String, Integer> m = REMEMBERED.get(cookie);
            return m == null ? null : m.get(option);
        }
    }

    /** Counts and logs (once per option and outcome) what compat did: a conversion ("tcp", "equivalent") or else a deviation. */
    private static void deviation(String option, String outcome, String message) {
        if (outcome.equals("tcp") || outcome.equals("equivalent")) {
            Stats.optionConversion(option + " " + outcome);
        } else {
            Stats.optionDeviation(option + " " + outcome);
        }
        Log.once(Log.Level.INFO, "option " + option + " " + outcome, option + ": " + message);
    }

    /** IP_TOS or IPV6_TCLASS: the traffic class, whichever family the JDK sets it for. */
    private static boolean isTrafficClass(int level, int opt) {
        return level == LibC.IPPROTO_IP && opt == LibC.IP_TOS || level == LibC.IPPROTO_IPV6 && opt == LibC.IPV6_TCLASS;
    }

    /** The name of an option as the JDK passes it to setsockopt. */
    static String name(int level, int opt) {
        if (opt == DONT_FRAGMENT) {
            return "IP_DONTFRAGMENT";
        }
        if (level == LibC.SOL_TCP && opt == LibC.TCP_QUICKACK) {
            return "TCP_QUICKACK";
        }
        if (level == SOL_SOCKET) {
            switch (opt) {
                case LibC.SO_REUSEADDR: return "SO_REUSEADDR";
                case LibC.SO_KEEPALIVE: return "SO_KEEPALIVE";
                case LibC.SO_OOBINLINE: return "SO_OOBINLINE";
                case LibC.SO_REUSEPORT: return "SO_REUSEPORT";
                case LibC.SO_SNDBUF: return "SO_SNDBUF";
                case LibC.SO_RCVBUF: return "SO_RCVBUF";
                case LibC.SO_LINGER: return "SO_LINGER";
                default: break;
            }
        } else if (level == LibC.IPPROTO_IP && opt == LibC.IP_TOS) {
            return "IP_TOS";
        } else if (level == LibC.IPPROTO_IPV6 && opt == LibC.IPV6_TCLASS) {
            return "IPV6_TCLASS";
        } else if (level == LibC.SOL_TCP && opt == LibC.TCP_NODELAY) {
            return "TCP_NODELAY";
        }
        return "option " + level + "/" + opt;
    }
}
