package mptcp.sys;

/**
 * The kernel and libc constants of the project. The calls themselves are made through jffi directly ({@link Jffi},
 * {@link Sock}), for start-up time; only {@link Handover} binds a few more with jnr-ffi, on first use.
 */
public interface LibC {
    int AF_INET = 2;
    int AF_INET6 = 10;
    int SOCK_STREAM = 1;

    int IPPROTO_IP = 0;
    int IPPROTO_TCP = 6;
    int IPPROTO_IPV6 = 41;
    /** IPPROTO_TCP + 256: a stream socket of this protocol is a Multipath TCP socket. */
    int IPPROTO_MPTCP = 262;

    int SOL_SOCKET = 1;
    int SOL_TCP = 6;
    int SOL_MPTCP = 284;

    int SO_REUSEADDR = 2;
    int SO_TYPE = 3;
    int SO_KEEPALIVE = 9;
    int SO_OOBINLINE = 10;
    int SO_REUSEPORT = 15;
    int SO_PROTOCOL = 38;
    int SO_DOMAIN = 39;

    int TCP_NODELAY = 1;
    int TCP_QUICKACK = 12;
    /** getsockopt(SOL_TCP): 1 while the socket really is MPTCP, 0 after a fallback to TCP (Linux 6.10+). */
    int TCP_IS_MPTCP = 43;

    int IPV6_V6ONLY = 26;
    int IPV6_TCLASS = 67;
    int IP_TOS = 1;

    int MPTCP_INFO = 1;
    /** getsockopt(SOL_MPTCP): the connection's mptcp_info and each subflow's id, addresses and tcp_info (Linux 6.5+). */
    int MPTCP_FULL_INFO = 4;

    int F_GETFD = 1;
    int F_SETFD = 2;
    int F_GETFL = 3;
    int F_SETFL = 4;
    int FD_CLOEXEC = 1;
    int O_NONBLOCK = 0x800;
    int EPOLL_CTL_ADD = 1;

    // --- socket options and addresses, for converting a socket's protocol with its state (options) intact ---
    int SO_SNDBUF = 7;
    int SO_RCVBUF = 8;
    int SO_LINGER = 13;
    int SO_ACCEPTCONN = 30;
    int SO_COOKIE = 57;
    int TCP_KEEPIDLE = 4;
    int TCP_KEEPINTVL = 5;
    int TCP_KEEPCNT = 6;
    int TCP_INFO = 11;
    // --- options libraries such as Netty set through their own natives (carried by Swap.convert(fd, p, true)) ---
    int TCP_CORK = 3;
    int TCP_DEFER_ACCEPT = 9;
    int TCP_FASTOPEN = 23;
    int TCP_NOTSENT_LOWAT = 25;
    int TCP_FASTOPEN_CONNECT = 30;
    int IP_FREEBIND = 15;
    int IP_TRANSPARENT = 19;
    int IP_BIND_ADDRESS_NO_PORT = 24;
    int SO_BUSY_POLL = 46;
    /** tcpi_state (first byte of TCP_INFO) of a socket neither connected, connecting nor listening. */
    int TCP_CLOSE = 7;
    // --- the connect race (policy.Races) ---
    int SO_ERROR = 4;
    int TCP_ESTABLISHED = 1;
    int TCP_SYN_SENT = 2;
    int SHUT_RDWR = 2;
    short POLLOUT = 4;
    short POLLERR = 8;
    short POLLHUP = 16;
    /** fcntl: duplicate to the lowest free fd number, with FD_CLOEXEC. */
    int F_DUPFD_CLOEXEC = 1030;
}
