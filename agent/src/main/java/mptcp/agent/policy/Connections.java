package mptcp.agent.policy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import mptcp.agent.log.Log;
import mptcp.agent.os.Addresses;
import mptcp.agent.paths.Paths;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Classifies each established connection: after a library's own connect or accept succeeded (the JDK module, the
 * Netty module), the kernel is asked what the connection really is, and it is counted in {@link Stats}.
 *
 * <p>Per connection the answer costs one getsockopt when MPTCP was negotiated ({@code TCP_IS_MPTCP}, Linux 6.10+),
 * two otherwise (plus {@code SO_PROTOCOL}), three for an accepted plain TCP connection (plus the listener's
 * {@code SO_PROTOCOL}); nothing is allocated unless a log line is written. Nothing here ever throws into the
 * application: a failure to classify leaves the connection uncounted.
 */
public final class Connections {
    /** Results of {@link #negotiated}. */
    public static final int MPTCP = 1;
    public static final int FALLBACK = 2;
    public static final int TCP = 3;
    public static final int OTHER = 0;

    /** False once the kernel showed it has no TCP_IS_MPTCP (before 6.10): then Go's MPTCP_INFO convention is used. */
    private static volatile boolean isMptcpOption = true;

    /**
     * "local remote" of live accepted connections that fell back (a plain TCP client on an MPTCP listener): the
     * kernel hands those out as plain TCP sockets, so only the agent knows they were meant to be MPTCP. Bounded;
     * pruned of closed connections by each status request.
     */
    private static final Set<String> ACCEPTED_FALLBACKS = ConcurrentHashMap.newKeySet();
    private static final int MAX_ACCEPTED_FALLBACKS = 4096;

    /** True when the live connection "local remote" was accepted by an MPTCP listener from a plain TCP client. */
    public static boolean acceptedFallback(String key) {
        return ACCEPTED_FALLBACKS.contains(key);
    }

    /** Forgets the accepted fallbacks that are no longer among {@code live} ("local remote" keys). */
    public static void retainAcceptedFallbacks(Set<String> live) {
        ACCEPTED_FALLBACKS.retainAll(live);
    }

    /** Destinations already named in an INFO line, bounded; and the rate limit of those lines. */
    private static final Set<String> NAMED = ConcurrentHashMap.newKeySet();
    private static final int MAX_NAMED = 1024;
    private static final int LINES_PER_MINUTE = 20;
    private static final AtomicLong WINDOW = new AtomicLong();
    private static final AtomicInteger LINES = new AtomicInteger();

    private Connections() {
    }

    /**
     * A connection was just established on {@code fd}: outgoing ({@code listener} -1) or accepted from the listening
     * socket {@code listener}. Never throws.
     */
    public static void established(int fd, int listener) {
        if (listener >= 0) {
            Decisions.unknown(fd); // a new socket under this fd number
        }
        if (Policy.nativeBroken) {
            return; // already reported once by Sockets
        }
        if (Decisions.keptTcp(listener >= 0 ? listener : fd)) {
            (listener >= 0 ? Stats.TCP_INBOUND : Stats.TCP_OUTBOUND).increment(); // a rule made it (its listener) TCP
            return;
        }
        try {
            classify(fd, listener);
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "classify", "cannot tell whether connections are MPTCP (" + t
                    + "); they are not counted");
        }
    }

    private static void classify(int fd, int listener) {
        boolean accepted = listener >= 0;
        switch (negotiated(fd)) {
            case MPTCP:
                (accepted ? Stats.MPTCP_INBOUND : Stats.MPTCP_OUTBOUND).increment();
                if (Policy.config().paths) { // on only where the closes are hooked (Agent.change)
                    Paths.opened(fd);
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
                } else {
                    (accepted ? Stats.TCP_INBOUND : Stats.TCP_OUTBOUND).increment();
                }
                break;
            default:
                break; // not a TCP socket (connected UDP) or closed meanwhile
        }
    }

    private static void fellBack(int fd, boolean accepted, String what) {
        (accepted ? Stats.FALLBACK_INBOUND : Stats.FALLBACK_OUTBOUND).increment();
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

    /**
     * The application is about to close {@code fd}, or to make it a dead socket before closing it (the JDK's preClose,
     * while other threads may still be blocked on it): the connection's last figures for the per-path accounting.
     * Never throws.
     */
    public static void closing(int fd) {
        Paths.closing(fd);
    }

    /** At most {@link #LINES_PER_MINUTE} destination lines per minute. */
    static boolean allowLine() {
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
    public static int negotiated(int fd) {
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
}
