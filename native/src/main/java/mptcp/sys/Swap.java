package mptcp.sys;

/**
 * Changing the protocol of an existing socket under the same fd number: a fresh socket of the other protocol, given
 * the old one's state, is dup2()ed over it. {@link #replace} for a socket just made, {@link #convert} for one the
 * application already configured (and perhaps bound).
 */
public final class Swap {
    private Swap() {
    }

    /**
     * Gives the open, not yet bound or connected stream socket {@code fd} a new protocol, keeping its fd number,
     * domain, dual-stack setting, SO_REUSEADDR, O_NONBLOCK and FD_CLOEXEC: a fresh socket is made and dup2()ed over
     * {@code fd}. Anything else set on the old socket is lost, so call it right after the socket was made.
     * @return 0, or -errno of the first failing step (the original socket is then left untouched)
     */
    public static int replace(int fd, int protocol) {
        return swap(fd, protocol, false, false);
    }

    /**
     * {@link #replace} for a socket whose creation the caller saw and on which nothing was set since (no option, not
     * bound): its domain, dual-stack setting and SO_REUSEADDR are those given here, only O_NONBLOCK is read (FD_CLOEXEC
     * is never set on such sockets). About half the syscalls of {@link #replace}.
     * @return 0, or -errno of the first failing step (the original socket is then left untouched)
     */
    public static int replaceFresh(int fd, int domain, int protocol, boolean dualStack, boolean reuseAddress) {
        int flags = Sock.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0) {
            return -Sock.errno();
        }
        int fresh = Sock.open(domain, protocol, dualStack, reuseAddress);
        if (fresh < 0) {
            return fresh;
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && Sock.fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (Sock.dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        Sock.close(fresh);
        return 0;
    }

    /** Returned by {@link #replaceFreshKeeping} when it succeeded but did not keep the old socket. */
    public static final int NOT_KEPT = Integer.MIN_VALUE;

    /**
     * {@link #replaceFresh}, keeping the old socket open under another fd number instead of closing it, so that it can
     * serve again as a fresh socket (it was never bound, connected nor configured): {@code fd} gets {@code protocol},
     * the old socket is returned under a new fd (F_DUPFD, no FD_CLOEXEC). Only a blocking socket is kept: a
     * non-blocking one may be registered with an epoll set (a selector), which would then still watch the old socket.
     * @return the old socket's new fd, {@link #NOT_KEPT} (non-blocking: replaced, the old one closed), or -errno of the
     *     first failing step (then {@code fd} is left untouched)
     */
    public static int replaceFreshKeeping(int fd, int domain, int protocol, boolean dualStack) {
        int flags = Sock.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0) {
            return -Sock.errno();
        }
        if ((flags & LibC.O_NONBLOCK) != 0) {
            int rc = replaceFresh(fd, domain, protocol, dualStack, false);
            return rc == 0 ? NOT_KEPT : rc;
        }
        int old = Sock.fcntl(fd, F_DUPFD, 0);
        if (old < 0) {
            return -Sock.errno();
        }
        int fresh = Sock.open(domain, protocol, dualStack, false);
        if (fresh < 0) {
            Sock.close(old);
            return fresh;
        }
        if (Sock.dup2(fresh, fd) < 0) {
            int rc = closeWithError(fresh);
            Sock.close(old);
            return rc;
        }
        Sock.close(fresh);
        return old;
    }

    /** fcntl command: duplicate to the lowest free fd number (Linux F_DUPFD). */
    private static final int F_DUPFD = 0;

    /** Integer options {@link #convert} carries over: level, name, and whether the kernel reports twice the set value. */
    private static final int[][] CARRIED = {
        // level, name, whether the kernel reports twice the set value, whether a fresh socket has 0 (not a sysctl)
        {LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 0, 1},
        {LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 0, 1},
        {LibC.SOL_SOCKET, LibC.SO_RCVBUF, 1, 0},
        {LibC.SOL_SOCKET, LibC.SO_SNDBUF, 1, 0},
        {LibC.IPPROTO_IP, LibC.IP_TOS, 0, 1},
        {LibC.SOL_TCP, LibC.TCP_NODELAY, 0, 1},
        {LibC.SOL_TCP, LibC.TCP_KEEPIDLE, 0, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPINTVL, 0, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPCNT, 0, 0},
    };

    /**
     * Integer options that a library making its sockets in C may set before connect or bind (Netty's
     * {@code EpollChannelOption}s and the like; the JDK cannot set them): carried by {@link #convert(int, int, boolean)}
     * when set on the old socket (a fresh socket has 0 for each), best effort.
     */
    private static final int[][] LIBRARY_CARRIED = {
        {LibC.SOL_TCP, LibC.TCP_CORK},
        {LibC.SOL_TCP, LibC.TCP_DEFER_ACCEPT},
        {LibC.SOL_TCP, LibC.TCP_FASTOPEN},
        {LibC.SOL_TCP, LibC.TCP_NOTSENT_LOWAT},
        {LibC.SOL_TCP, LibC.TCP_FASTOPEN_CONNECT},
        {LibC.IPPROTO_IP, LibC.IP_FREEBIND},
        {LibC.IPPROTO_IP, LibC.IP_TRANSPARENT},
        {LibC.IPPROTO_IP, LibC.IP_BIND_ADDRESS_NO_PORT},
        {LibC.SOL_SOCKET, LibC.SO_BUSY_POLL},
    };

    /**
     * True when {@code fd} is a stream socket that is neither listening nor connected nor connecting (TCP_INFO state
     * CLOSE): the only state in which {@link #convert} may swap its protocol.
     */
    public static boolean unconnected(int fd) {
        return Sock.tcpState(fd) == LibC.TCP_CLOSE; // a listener is in state LISTEN: one getsockopt answers both
    }

    /**
     * Like {@link #replace}, for a socket the application already configured: gives the unconnected, not listening
     * stream socket {@code fd} the protocol {@code protocol}, keeping its fd number, domain, IPV6_V6ONLY, SO_REUSEADDR,
     * O_NONBLOCK, FD_CLOEXEC, the options in {@link #CARRIED} and SO_LINGER wherever they differ from a fresh socket's,
     * and the local address and port if it is bound (re-bound before the swap, so the port is never free in between).
     * @return 0, or -errno of the first failing step (-EISCONN when not {@link #unconnected}); the original socket is
     *     then left untouched
     */
    public static int convert(int fd, int protocol) {
        return convert(fd, protocol, false);
    }

    /**
     * {@link #convert(int, int)}; with {@code libraryOptions} also the options of {@link #LIBRARY_CARRIED} that are set
     * (for a socket a library configured through its own natives: 9 getsockopt more).
     */
    public static int convert(int fd, int protocol, boolean libraryOptions) {
        if (!unconnected(fd)) {
            return -Errno.EISCONN;
        }
        return swap(fd, protocol, true, libraryOptions);
    }

    /**
     * The one way the agent changes a socket's protocol: a fresh socket of {@code protocol} with the old one's domain,
     * IPV6_V6ONLY and SO_REUSEADDR (and, when {@code carry}, its other options and bound address: {@link #carry}),
     * O_NONBLOCK and FD_CLOEXEC, dup2()ed over {@code fd}.
     */
    private static int swap(int fd, int protocol, boolean carry, boolean libraryOptions) {
        int[] like = new int[1];
        int fresh = openLike(fd, protocol, like);
        if (fresh < 0) {
            return fresh;
        }
        int reuse = like[0];
        int flags = Sock.fcntl(fd, LibC.F_GETFL, 0);
        int fdFlags = Sock.fcntl(fd, LibC.F_GETFD, 0);
        if (flags < 0 || fdFlags < 0) {
            return closeWithError(fresh);
        }
        int rc = carry ? carry(fd, fresh, reuse, libraryOptions) : 0;
        if (rc < 0) {
            Sock.close(fresh);
            return rc;
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && Sock.fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (Sock.dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        Sock.close(fresh);
        if ((fdFlags & LibC.FD_CLOEXEC) != 0) {
            Sock.fcntl(fd, LibC.F_SETFD, fdFlags);
        }
        return 0;
    }

    /**
     * A fresh stream socket of {@code protocol} with {@code fd}'s domain, IPV6_V6ONLY and SO_REUSEADDR (written to
     * {@code reuse[0]}).
     * @return its fd, or -errno of the first failing step
     */
    private static int openLike(int fd, int protocol, int[] reuse) {
        int domain = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain < 0) {
            return domain;
        }
        int v6only = domain == LibC.AF_INET6 ? Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : 1;
        reuse[0] = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
        if (v6only < 0 || reuse[0] < 0) {
            return v6only < 0 ? v6only : reuse[0];
        }
        return Sock.open(domain, protocol, v6only == 0, reuse[0] != 0);
    }

    /**
     * Copies to {@code fresh} the options in {@link #CARRIED} (and {@link #LIBRARY_CARRIED}) and SO_LINGER wherever
     * {@code fd}'s differ from a fresh socket's (read from {@code fresh} only where a sysctl gives the default), and binds it to {@code fd}'s local address if {@code fd} is bound.
     * @return 0 or -errno (the caller closes {@code fresh})
     */
    private static int carry(int fd, int fresh, int reuse, boolean libraryOptions) {
        int rc = carryOptions(fd, fresh, libraryOptions, true);
        if (rc < 0) {
            return rc;
        }
        byte[] local = new byte[128];
        int length = Sock.address(fd, false, local);
        if (length < 0) {
            return length;
        }
        if (SockAddr.port(local) != 0) {
            // bound: bind the new socket to the same address first; both need SO_REUSEADDR meanwhile (neither listens)
            if (reuse == 0 && Sock.setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) < 0) {
                return -Sock.errno();
            }
            rc = reuse == 0 ? Sock.setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) : 0;
            if (rc == 0) {
                rc = Sock.bind(fresh, local, length);
            }
            if (reuse == 0) {
                Sock.setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                if (rc == 0) {
                    rc = Sock.setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                }
            }
            if (rc < 0) {
                return rc;
            }
        }
        return 0;
    }

    /**
     * Copies to {@code to} the options in {@link #CARRIED} (and, with {@code libraryOptions}, {@link #LIBRARY_CARRIED})
     * and SO_LINGER wherever {@code from}'s differ from {@code to}'s. With {@code fresh}, {@code to} was just made:
     * options whose fresh value is always 0 are not read from it.
     * @return 0 or -errno of a failing setsockopt
     */
    public static int carryOptions(int from, int to, boolean libraryOptions, boolean fresh) {
        for (int[] o : CARRIED) {
            int old = Sock.getInt(from, o[0], o[1]);
            if (old >= 0 && old != (fresh && o[3] == 1 ? 0 : Sock.getInt(to, o[0], o[1]))) {
                int rc = Sock.setInt(to, o[0], o[1], o[2] == 1 ? old / 2 : old);
                if (rc < 0) {
                    return rc;
                }
            }
        }
        if (libraryOptions) {
            for (int[] o : LIBRARY_CARRIED) {
                int old = Sock.getInt(from, o[0], o[1]);
                if (old > 0 && old != Sock.getInt(to, o[0], o[1])) {
                    Sock.setInt(to, o[0], o[1], old); // best effort: plain TCP takes each of them
                }
            }
        }
        byte[] linger = new byte[8];
        byte[] current = new byte[8];
        if (Sock.getBytes(from, LibC.SOL_SOCKET, LibC.SO_LINGER, linger) == 8
                && Sock.getBytes(to, LibC.SOL_SOCKET, LibC.SO_LINGER, current) == 8
                && !java.util.Arrays.equals(linger, current)) {
            int rc = Sock.setBytes(to, LibC.SOL_SOCKET, LibC.SO_LINGER, linger, 8);
            if (rc < 0) {
                return rc;
            }
        }
        return 0;
    }

    /**
     * A second stream socket for a connection attempt beside {@code fd}'s, which is under way (the connect race,
     * policy.Races): of {@code protocol}, with {@code fd}'s domain, IPV6_V6ONLY, SO_REUSEADDR and carried options
     * (as {@link #carryOptions}), non-blocking, FD_CLOEXEC, and bound to {@code fd}'s local address with port 0
     * when {@code sameSource} (the source address the route chose, or the one the application bound to).
     * @return the new fd, or -errno of the first failing step
     */
    public static int twin(int fd, int protocol, boolean sameSource, boolean libraryOptions) {
        int fresh = openLike(fd, protocol, new int[1]);
        if (fresh < 0) {
            return fresh;
        }
        int rc = carryOptions(fd, fresh, libraryOptions, true);
        if (rc == 0 && (Sock.fcntl(fresh, LibC.F_SETFL, LibC.O_NONBLOCK) < 0
                || Sock.fcntl(fresh, LibC.F_SETFD, LibC.FD_CLOEXEC) < 0)) {
            rc = -Sock.errno();
        }
        if (rc == 0 && sameSource) {
            byte[] local = new byte[128];
            int length = Sock.address(fd, false, local);
            if (length > 0) {
                local[2] = 0; // port 0: any free one
                local[3] = 0;
                Sock.bind(fresh, local, length); // best effort: unbound, the route picks the same source
            }
        }
        if (rc < 0) {
            Sock.close(fresh);
            return rc;
        }
        return fresh;
    }

    /**
     * Puts the connected or connecting socket {@code twin} under {@code fd}'s number in place of what {@code fd} held
     * (dup2, then {@code twin} closed), with {@code fd}'s blocking mode and FD_CLOEXEC. Epoll registrations of the old
     * file are gone afterwards (the caller adds them again).
     * @return 0, or -errno of the first failing step (then {@code fd} is untouched and {@code twin} still open)
     */
    public static int install(int twin, int fd) {
        int flags = Sock.fcntl(fd, LibC.F_GETFL, 0);
        int fdFlags = Sock.fcntl(fd, LibC.F_GETFD, 0);
        if (flags < 0 || fdFlags < 0) {
            return -Sock.errno();
        }
        int twinFlags = Sock.fcntl(twin, LibC.F_GETFL, 0);
        if (twinFlags < 0 || ((twinFlags ^ flags) & LibC.O_NONBLOCK) != 0
                && Sock.fcntl(twin, LibC.F_SETFL, (twinFlags & ~LibC.O_NONBLOCK) | (flags & LibC.O_NONBLOCK)) < 0) {
            return -Sock.errno();
        }
        if (Sock.dup2(twin, fd) < 0) {
            return -Sock.errno();
        }
        Sock.close(twin);
        if ((fdFlags & LibC.FD_CLOEXEC) != 0) {
            Sock.fcntl(fd, LibC.F_SETFD, fdFlags);
        }
        return 0;
    }

    private static int closeWithError(int fd) {
        int error = Sock.errno();
        Sock.close(fd);
        return -error;
    }
}
