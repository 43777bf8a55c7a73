package mptcp.agent;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.net.SocketException;
import java.util.LinkedHashMap;
import java.util.Map;

import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Handlers of the socket-option redirects (see {@link Instrumenter}): they keep socket options and urgent data working
 * on MPTCP sockets as they do on TCP. Every handler first runs the JDK's own call; only when that fails on an MPTCP
 * socket does it act. With {@code options=compat} (default), in this order:
 * <ol>
 *   <li><b>equivalent</b>: the traffic class of an AF_INET6 socket connected to an IPv4 peer (::ffff:a.b.c.d) is its
 *       IPv4 TOS, which MPTCP supports: set and read as IP_TOS.</li>
 *   <li><b>tcp</b>: the socket is not connected, connecting nor listening yet: it is turned into a plain TCP socket
 *       with its state kept ({@link Sock#convert}: fd number, options, blocking mode, bound address) and the JDK's
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
 * stream (the kernel would deliver the byte in-band, also after a fallback to TCP): {@link #sendOOB} throws instead,
 * in both modes.
 */
public final class Options {
    private static final int SOL_SOCKET = LibC.SOL_SOCKET;
    private static final int TCLASS = -1;
    /** Values accepted without reaching the kernel, by socket cookie, then by option ("SO_OOBINLINE", ...). */
    private static final Map<Long, Map<String, Integer>> REMEMBERED = new LinkedHashMap<Long, Map<String, Integer>>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Map<String, Integer>> eldest) {
            return size() > 4096;
        }
    };
    private static volatile boolean remembering;

    private Options() {
    }

    public static void setIntOption0(FileDescriptor fd, boolean mayNeedConversion, int level, int opt, int arg,
                                     boolean isIPv6) throws Throwable {
        Decisions.touched(Kernel.fdVal(fd));
        try {
            Instrumenter.SET_INT_OPTION0.original.invokeExact(fd, mayNeedConversion, level, opt, arg, isIPv6);
        } catch (IOException e) {
            int s = Kernel.fdVal(fd);
            if (!compat() || !mptcp(s)) {
                throw e;
            }
            String name = name(level, opt);
            boolean tos = isTrafficClass(level, opt);
            if (tos && Sock.ipv4Only(s) == 1 && Sock.setInt(s, LibC.IPPROTO_IP, LibC.IP_TOS, arg & 0xFF) == 0) {
                remember(s, "IP_TOS", arg & 0xFF);
                deviation(name, "equivalent", "set as IPv4 TOS: the socket only talks to IPv4 peers (::ffff:a.b.c.d)"
                        + " and MPTCP has no IPV6_TCLASS");
                return;
            }
            if (toTcp(s, name)) {
                Instrumenter.SET_INT_OPTION0.original.invokeExact(fd, mayNeedConversion, level, opt, arg, isIPv6);
                return;
            }
            boolean emulable = level == SOL_SOCKET && (opt == LibC.SO_REUSEADDR || opt == LibC.SO_REUSEPORT)
                    || level == SOL_SOCKET && opt == LibC.SO_OOBINLINE && Sock.getInt(s, LibC.SOL_TCP, LibC.TCP_IS_MPTCP) == 1;
            if (emulable && remember(s, name, arg)) {
                deviation(name, "emulated", "accepted and remembered on an established MPTCP connection, where it has no"
                        + " effect (" + (opt == LibC.SO_OOBINLINE ? "MPTCP carries no urgent data" : "it only matters for bind") + ")");
                return;
            }
            deviation(name, "error", "not supported by MPTCP on a connected or listening socket: " + e.getMessage());
            throw e;
        }
    }

    public static int getIntOption0(FileDescriptor fd, boolean mayNeedConversion, int level, int opt) throws Throwable {
        if (remembering) {
            Integer v = remembered(Kernel.fdVal(fd), isTrafficClass(level, opt) ? "IP_TOS" : name(level, opt));
            if (v != null) {
                return v;
            }
        }
        try {
            return (int) Instrumenter.GET_INT_OPTION0.original.invokeExact(fd, mayNeedConversion, level, opt);
        } catch (IOException e) {
            int s = Kernel.fdVal(fd);
            if (!compat() || !mptcp(s)) {
                throw e;
            }
            boolean tos = isTrafficClass(level, opt);
            int v4tos = tos && Sock.ipv4Only(s) == 1 ? Sock.getInt(s, LibC.IPPROTO_IP, LibC.IP_TOS) : -1;
            if (v4tos >= 0) {
                deviation(name(level, opt), "equivalent", "read as IPv4 TOS: the socket only talks to IPv4 peers"
                        + " (::ffff:a.b.c.d) and MPTCP has no IPV6_TCLASS");
                return v4tos;
            }
            int tmp = fresh(s);
            if (tmp < 0) {
                throw e;
            }
            try {
                int v = (int) Instrumenter.GET_INT_OPTION0.original.invokeExact(Kernel.newFD(tmp), mayNeedConversion, level, opt);
                deviation(name(level, opt), "default", "read as a fresh TCP socket's value (MPTCP cannot report it;"
                        + " it was never set on this socket)");
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    public static void setQuickAck0(int fd, boolean on) throws Throwable {
        Decisions.touched(fd);
        try {
            Instrumenter.SET_QUICK_ACK0.original.invokeExact(fd, on);
        } catch (IOException | UnsupportedOperationException e) {
            if (!compat() || !mptcp(fd)) {
                throw e;
            }
            if (toTcp(fd, "TCP_QUICKACK")) {
                Instrumenter.SET_QUICK_ACK0.original.invokeExact(fd, on);
                return;
            }
            if (remember(fd, "TCP_QUICKACK", on ? 1 : 0)) {
                deviation("TCP_QUICKACK", "emulated", "accepted and remembered on an established MPTCP connection"
                        + " (a hint MPTCP does not offer)");
                return;
            }
            throw e;
        }
    }

    public static boolean getQuickAck0(int fd) throws Throwable {
        if (remembering) {
            Integer v = remembered(fd, "TCP_QUICKACK");
            if (v != null) {
                return v != 0;
            }
        }
        try {
            return (boolean) Instrumenter.GET_QUICK_ACK0.original.invokeExact(fd);
        } catch (IOException | UnsupportedOperationException e) {
            int tmp = compat() && mptcp(fd) ? fresh(fd) : -1;
            if (tmp < 0) {
                throw e;
            }
            try {
                boolean v = (boolean) Instrumenter.GET_QUICK_ACK0.original.invokeExact(tmp);
                deviation("TCP_QUICKACK", "default", "read as a fresh TCP socket's value (MPTCP cannot report it)");
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    public static void setIpDontFragment0(int fd, boolean on, boolean isIPv6) throws Throwable {
        Decisions.touched(fd);
        try {
            Instrumenter.SET_IP_DONT_FRAGMENT0.original.invokeExact(fd, on, isIPv6);
        } catch (IOException | UnsupportedOperationException e) {
            if (!compat() || !mptcp(fd)) {
                throw e;
            }
            if (toTcp(fd, "IP_DONTFRAGMENT")) {
                Instrumenter.SET_IP_DONT_FRAGMENT0.original.invokeExact(fd, on, isIPv6);
                return;
            }
            deviation("IP_DONTFRAGMENT", "error", "not supported by MPTCP on a connected or listening socket");
            throw e;
        }
    }

    public static boolean getIpDontFragment0(int fd, boolean isIPv6) throws Throwable {
        try {
            return (boolean) Instrumenter.GET_IP_DONT_FRAGMENT0.original.invokeExact(fd, isIPv6);
        } catch (IOException | UnsupportedOperationException e) {
            int tmp = compat() && mptcp(fd) ? fresh(fd) : -1;
            if (tmp < 0) {
                throw e;
            }
            try {
                boolean v = (boolean) Instrumenter.GET_IP_DONT_FRAGMENT0.original.invokeExact(tmp, isIPv6);
                deviation("IP_DONTFRAGMENT", "default", "read as a fresh TCP socket's value (MPTCP cannot report it;"
                        + " it was never set on this socket)");
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    /**
     * Urgent data. MPTCP has none: the kernel ignores MSG_OOB and puts the byte into the stream, also on a connection
     * that fell back to TCP (measured on Linux 6.18), which would silently corrupt the peer's data. So on an MPTCP
     * socket this throws, whatever the options policy; on TCP sockets (e.g. accepted from a plain TCP client) it is
     * the JDK's call.
     */
    public static int sendOOB(FileDescriptor fd, byte data) throws Throwable {
        refuseUrgentOnMptcp(Kernel.fdVal(fd));
        return (int) Instrumenter.SEND_OOB.original.invokeExact(fd, data);
    }

    /** JDK 17's legacy PlainSocketImpl, before its native socketSendUrgentData: the same rule as {@link #sendOOB}. */
    public static void legacyUrgent(int fd) throws SocketException {
        refuseUrgentOnMptcp(fd);
    }

    private static void refuseUrgentOnMptcp(int s) throws SocketException {
        if (mptcp(s)) {
            deviation("urgent data", "error", "sendUrgentData refused on an MPTCP socket: MPTCP cannot send urgent data"
                    + " and would put the byte into the stream");
            throw new SocketException("Urgent data is not supported on a Multipath TCP connection (mptcp-agent): the"
                    + " byte would arrive in the data stream");
        }
    }

    private static boolean compat() {
        return Interceptor.config().options == Config.OptionPolicy.COMPAT;
    }

    private static boolean mptcp(int fd) {
        return Sock.protocol(fd) == LibC.IPPROTO_MPTCP;
    }

    /** Before connect: turns {@code fd} into plain TCP with its state kept; false when it is too late for that. */
    private static boolean toTcp(int fd, String option) {
        int rc;
        try {
            rc = Sock.convert(fd, 0);
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

    /** A new TCP socket of {@code fd}'s family, to read the value TCP reports by default; or -errno. */
    private static int fresh(int fd) {
        int domain = Sock.getInt(fd, SOL_SOCKET, LibC.SO_DOMAIN);
        return domain < 0 ? domain : Sock.open(domain, 0, domain == LibC.AF_INET6, false);
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
