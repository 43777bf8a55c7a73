package mptcp.agent;

import java.io.FileDescriptor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Handlers of the connection redirects (see {@link Instrumenter}): they run the JDK's own call and then ask the kernel
 * what the established connection really is, counting it in {@link Stats}.
 *
 * <p>Per connection the answer costs one getsockopt when MPTCP was negotiated ({@code TCP_IS_MPTCP}, Linux 6.10+),
 * two otherwise (plus {@code SO_PROTOCOL}), three for an accepted plain TCP connection (plus the listener's
 * {@code SO_PROTOCOL}); nothing is allocated unless a log line is written. Nothing here ever throws into the
 * application: a failure to classify leaves the connection uncounted.
 */
public final class Connections {
    /** Results of {@link #negotiated}. */
    static final int MPTCP = 1;
    static final int FALLBACK = 2;
    static final int TCP = 3;
    static final int OTHER = 0;

    /** False once the kernel showed it has no TCP_IS_MPTCP (before 6.10): then Go's MPTCP_INFO convention is used. */
    private static volatile boolean isMptcpOption = true;

    /**
     * "local remote" of live accepted connections that fell back (a plain TCP client on an MPTCP listener): the
     * kernel hands those out as plain TCP sockets, so only the agent knows they were meant to be MPTCP. Bounded;
     * pruned of closed connections by each status request.
     */
    static final Set<String> ACCEPTED_FALLBACKS = ConcurrentHashMap.newKeySet();
    private static final int MAX_ACCEPTED_FALLBACKS = 4096;

    /** Destinations already named in an INFO line, bounded; and the rate limit of those lines. */
    private static final Set<String> NAMED = ConcurrentHashMap.newKeySet();
    private static final int MAX_NAMED = 1024;
    private static final int LINES_PER_MINUTE = 20;
    private static final AtomicLong WINDOW = new AtomicLong();
    private static final AtomicInteger LINES = new AtomicInteger();

    private Connections() {
    }

    public static int connect0(boolean preferIPv6, FileDescriptor fd, InetAddress remote, int port) throws Throwable {
        Decisions.beforeConnect(fd, remote, port);
        int n = (int) Instrumenter.CONNECT0.original.invokeExact(preferIPv6, fd, remote, port);
        if (n == 1) {
            established(fd, null);
        }
        return n;
    }

    public static boolean pollConnect(FileDescriptor fd, long timeout) throws Throwable {
        boolean connected = (boolean) Instrumenter.POLL_CONNECT.original.invokeExact(fd, timeout);
        if (connected) {
            established(fd, null);
        }
        return connected;
    }

    public static void checkConnect(int fd) throws Throwable {
        Instrumenter.CHECK_CONNECT.original.invokeExact(fd);
        established(fd, -1);
    }

    public static int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws Throwable {
        int n = (int) Instrumenter.ACCEPT.original.invokeExact(fd, newfd, isaa);
        if (n == 1) {
            established(newfd, fd);
        }
        return n;
    }

    private static void established(FileDescriptor fd, FileDescriptor listener) {
        if (Interceptor.nativeBroken) {
            return; // already reported once by Interceptor
        }
        try {
            int v = fdVal(fd);
            int l = listener == null ? -1 : fdVal(listener);
            if (v >= 0 && (listener == null || l >= 0)) {
                established(v, l);
            }
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "classify", "cannot tell whether connections are MPTCP (" + t
                    + "); they are not counted");
        }
    }

    /** A connection was just established on {@code fd}: outgoing ({@code listener} -1) or accepted from {@code listener}. */
    private static void established(int fd, int listener) {
        if (listener >= 0) {
            Decisions.unknown(fd);
        }
        if (Decisions.keptTcp(listener >= 0 ? listener : fd)) {
            return; // a rule made it (or its listener) plain TCP: nothing to ask the kernel
        }
        try {
            boolean accepted = listener >= 0;
            switch (negotiated(fd)) {
                case MPTCP:
                    Stats.CONNECTIONS_MPTCP.increment();
                    if (accepted) {
                        Stats.CONNECTIONS_MPTCP_ACCEPTED.increment();
                    }
                    if (Log.enabled(Log.Level.DEBUG)) {
                        Log.debug("fd " + fd + ": " + describe(fd, accepted) + ": MPTCP negotiated");
                    }
                    break;
                case FALLBACK:
                    fellBack(fd, accepted, "fell back to TCP");
                    break;
                case TCP:
                    if (accepted && Sock.getInt(listener, LibC.SOL_SOCKET, LibC.SO_PROTOCOL) == LibC.IPPROTO_MPTCP) {
                        if (ACCEPTED_FALLBACKS.size() < MAX_ACCEPTED_FALLBACKS) {
                            String key = Addresses.key(fd);
                            if (key != null) {
                                ACCEPTED_FALLBACKS.add(key);
                            }
                        }
                        fellBack(fd, true, "the client did not ask for MPTCP: plain TCP");
                    }
                    break;
                default:
                    break; // not a TCP socket (connected UDP) or closed meanwhile
            }
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "classify", "cannot tell whether connections are MPTCP (" + t
                    + "); they are not counted");
        }
    }

    private static void fellBack(int fd, boolean accepted, String what) {
        Stats.CONNECTIONS_TCP.increment();
        if (accepted) {
            Stats.CONNECTIONS_TCP_ACCEPTED.increment();
        }
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("fd " + fd + ": " + describe(fd, accepted) + ": " + what);
        }
        if (Log.enabled(Log.Level.INFO) && NAMED.size() < MAX_NAMED) {
            String peer = Addresses.of(fd, true);
            if (peer == null) {
                return;
            }
            // outgoing: the destination's address and port; accepted: the client's address (its port changes)
            String who = accepted ? "client " + peer.substring(0, peer.lastIndexOf(':')) : peer;
            if (!NAMED.contains(who) && allowLine() && NAMED.add(who)) {
                Log.info(accepted
                        ? who + " connects without MPTCP: its connections run as plain TCP (first one; not repeated)"
                        : who + " answers without MPTCP: connections to it run as plain TCP (first one; not repeated)");
            }
        }
    }

    /** At most {@link #LINES_PER_MINUTE} destination lines per minute. */
    private static boolean allowLine() {
        long minute = System.nanoTime() / 60_000_000_000L;
        long w = WINDOW.get();
        if (w != minute && WINDOW.compareAndSet(w, minute)) {
            LINES.set(0);
        }
        return LINES.incrementAndGet() <= LINES_PER_MINUTE;
    }

    private static String describe(int fd, boolean accepted) {
        return (accepted ? "accepted from " : "connected to ") + Addresses.of(fd, true);
    }

    /**
     * What the kernel says about connected socket {@code fd}: {@link #MPTCP}, {@link #FALLBACK} (an MPTCP socket
     * whose connection runs as TCP), {@link #TCP} (a plain TCP socket) or {@link #OTHER}.
     */
    static int negotiated(int fd) {
        int is = isMptcpOption ? Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_IS_MPTCP) : -Errno.ENOPROTOOPT;
        if (is == 1) {
            return MPTCP;
        }
        int protocol = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
        if (protocol == LibC.IPPROTO_MPTCP) {
            if (is == 0) {
                return FALLBACK;
            }
            if (is == -Errno.ENOPROTOOPT || is == -Errno.EOPNOTSUPP) {
                isMptcpOption = false; // Linux < 6.10
            }
            // Go's convention (Linux 5.16+): MPTCP_INFO fails with EOPNOTSUPP or ENOPROTOOPT after a fallback
            int info = Sock.getInt(fd, LibC.SOL_MPTCP, LibC.MPTCP_INFO);
            return info == -Errno.EOPNOTSUPP || info == -Errno.ENOPROTOOPT ? FALLBACK : MPTCP;
        }
        return protocol == LibC.IPPROTO_TCP ? TCP : OTHER;
    }

    /** The int fd inside a JDK FileDescriptor, or -1 if it cannot be read. */
    private static int fdVal(FileDescriptor fd) {
        try {
            return Kernel.fdVal(fd);
        } catch (Throwable t) {
            return -1;
        }
    }
}
