package mptcp.agent.policy;

import mptcp.sys.Sock;

/**
 * Fresh MPTCP client sockets that a rule turned away (their fd now holds the TCP socket that replaced them), kept
 * for the next client socket instead of being closed and made again: on loopback, where every connection is kept TCP,
 * each connection then costs no MPTCP socket at all. A spare was never bound, connected nor configured, and is
 * blocking, without FD_CLOEXEC, like a socket just made; only blocking sockets are kept (a non-blocking one may be
 * watched by a selector's epoll set, which must not follow it here); at most {@link #MAX} per family are kept (the
 * agent holds them: a few unbound sockets, no port).
 */
final class Spares {
    static final int MAX = 4;
    private static final int[] INET6 = new int[MAX];
    private static final int[] INET = new int[MAX];
    private static int inet6Count;
    private static int inetCount;

    private Spares() {
    }

    /** Keeps {@code fd} (a fresh MPTCP client socket of the family) or closes it when there are enough. */
    static void give(int fd, boolean inet6) {
        synchronized (Spares.class) {
            if (inet6 ? inet6Count < MAX : inetCount < MAX) {
                if (inet6) {
                    INET6[inet6Count++] = fd;
                } else {
                    INET[inetCount++] = fd;
                }
                return;
            }
        }
        Sock.close(fd);
    }

    /** Closes every spare (the agent was switched off: it holds no MPTCP socket of its own any more). */
    static void closeAll() {
        int fd;
        while ((fd = take(true)) >= 0 || (fd = take(false)) >= 0) {
            Sock.close(fd);
        }
    }

    /** A spare fresh MPTCP client socket of the family, or -1. */
    static int take(boolean inet6) {
        synchronized (Spares.class) {
            if (inet6) {
                return inet6Count > 0 ? INET6[--inet6Count] : -1;
            }
            return inetCount > 0 ? INET[--inetCount] : -1;
        }
    }
}
