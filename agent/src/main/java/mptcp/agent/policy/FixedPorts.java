package mptcp.agent.policy;

import mptcp.sys.Sock;

/**
 * Sockets the application bound to a port of its own choosing (a client that needs its source port): the connect race
 * ({@link Races}) leaves them alone, since a second connection would need another port. Kept as each such socket's
 * SO_COOKIE by fd number (one getsockopt per such bind, rare), so that nothing has to be cleared when a new socket
 * takes the number; the array exists from the first such bind on. A class of its own so that a JVM's listeners and
 * first sockets do not load the race.
 */
public final class FixedPorts {
    private static final int MAX_TRACKED = 1 << 22;
    private static volatile long[] cookies;

    private FixedPorts() {
    }

    /** Socket {@code fd} was bound to a port other than 0 (by the application, before its connect or listen). */
    public static void bound(int fd) {
        if (fd < 0 || fd >= MAX_TRACKED) {
            return;
        }
        long cookie = Sock.cookie(fd);
        if (cookie < 0) {
            return;
        }
        synchronized (FixedPorts.class) {
            long[] c = cookies;
            if (c == null || fd >= c.length) {
                c = c == null ? new long[Math.max(1024, fd + 1)]
                        : java.util.Arrays.copyOf(c, Math.min(MAX_TRACKED, Math.max(fd + 1, c.length * 2)));
                cookies = c;
            }
            c[fd] = cookie;
        }
    }

    /** Whether the socket under {@code fd} with SO_COOKIE {@code cookie} was bound to a port of its own. */
    static boolean fixed(int fd, long cookie) {
        long[] c = cookies;
        return c != null && fd >= 0 && fd < c.length && c[fd] == cookie;
    }
}
