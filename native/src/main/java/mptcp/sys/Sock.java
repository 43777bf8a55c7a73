package mptcp.sys;

import com.kenai.jffi.AgentBinding;

/**
 * The socket primitives of the agent, one per syscall idea. Each returns a non-negative result on success and
 * {@code -errno} on failure, so callers never have to read errno themselves and never see an exception from here.
 * Changing a socket's protocol is {@link Swap}; reading raw addresses is {@link SockAddr}.
 *
 * <p>How the native calls are made, for start-up time (see docs/performance.md): every call here (socket,
 * setsockopt and getsockopt, fcntl, dup2, close, bind, getsockname, epoll_ctl) goes straight through jffi, jnr-ffi's
 * own native layer: one CallContext per C signature and the symbol addresses of libc, no generated code. Binding
 * {@link LibC} with jnr-ffi's LibraryLoader costs 150-450 ms at its first use (hundreds of classes, bytecode and x86
 * stub generation): structured options ({@link #getBytes}, {@link #setBytes}) and bind copy their bytes through
 * native memory instead, so that converting a socket's protocol ({@link Swap#convert}) never pays it.
 */
public final class Sock {
    private Sock() {
    }

    /** Forces the native binding used on the socket-creation path to load (jffi stub); throws if it cannot. */
    public static void load() {
        if (Jffi.SOCKET == 0) { // reading it runs the binding's initialiser, which throws when it cannot load
            throw new UnsatisfiedLinkError("libc has no socket");
        }
    }

    /** errno of the last failed call on this thread, as a positive number. */
    public static int errno() {
        return AgentBinding.lastError();
    }

    public static String strerror(int errno) {
        try {
            long text = AgentBinding.invokeN1(Jffi.STRING_OF_INT, Jffi.STRERROR, errno);
            return text == 0 ? null : new String(AgentBinding.getCString(text), java.nio.charset.StandardCharsets.UTF_8);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * Creates a stream socket of {@code protocol} (0 or {@link LibC#IPPROTO_MPTCP}) the way the JDK creates its TCP
     * sockets: no CLOEXEC, blocking, IPV6_V6ONLY=0 when {@code dualStack} on an AF_INET6 socket, SO_REUSEADDR when
     * {@code reuseAddress}.
     * @return the new fd, or -errno (of socket(); of setsockopt() if a required option failed, the socket closed)
     */
    public static int open(int domain, int protocol, boolean dualStack, boolean reuseAddress) {
        int fd = Jffi.call3(Jffi.SOCKET, domain, LibC.SOCK_STREAM, protocol);
        if (fd < 0) {
            return -errno();
        }
        int rc = 0;
        if (domain == LibC.AF_INET6 && dualStack) {
            rc = setInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, 0);
        }
        if (rc == 0 && reuseAddress) {
            rc = setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1);
        }
        if (rc < 0) {
            Jffi.call1(Jffi.CLOSE, fd);
            return rc;
        }
        return fd;
    }

    /** SOCK_NONBLOCK, a flag of socket()'s type argument (the value of O_NONBLOCK on Linux). */
    private static final int SOCK_NONBLOCK = 0x800;

    /**
     * Creates a stream socket of {@code protocol} the way Netty's native transports create theirs
     * ({@code io.netty.channel.unix.Socket.newSocketStreamFd}): non-blocking, no CLOEXEC, IPV6_V6ONLY=0 on an AF_INET6
     * socket (a failure other than EAFNOSUPPORT closes the socket).
     * @return the new fd, or -errno (of socket(); of setsockopt(), the socket closed)
     */
    public static int openNonBlocking(int domain, int protocol) {
        int fd = Jffi.call3(Jffi.SOCKET, domain, LibC.SOCK_STREAM | SOCK_NONBLOCK, protocol);
        if (fd < 0) {
            return -errno();
        }
        if (domain == LibC.AF_INET6) {
            int rc = setInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, 0);
            if (rc < 0 && rc != -Errno.EAFNOSUPPORT) {
                Jffi.call1(Jffi.CLOSE, fd);
                return rc;
            }
        }
        return fd;
    }

    /** @return 0 or -errno */
    public static int setInt(int fd, int level, int name, int value) {
        long buffer = Scratch.take();
        if (buffer == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putInt(buffer, value);
            long rc = AgentBinding.invokeN5(Jffi.SET_OPT, Jffi.SETSOCKOPT, fd, level, name, buffer, 4);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            Scratch.giveBack(buffer);
        }
    }

    /**
     * Allocates nothing in steady state (it runs after every connect and accept).
     * @return the option's value (non-negative for every option read here), or -errno
     */
    public static int getInt(int fd, int level, int name) {
        long buffer = Scratch.take(); // the value, then its length
        if (buffer == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putInt(buffer, 0);
            AgentBinding.putInt(buffer + 4, 4);
            long rc = AgentBinding.invokeN5(Jffi.GET_OPT, Jffi.GETSOCKOPT, fd, level, name, buffer, buffer + 4);
            return (int) rc == 0 ? AgentBinding.getInt(buffer) : -errno();
        } finally {
            Scratch.giveBack(buffer);
        }
    }

    /**
     * Reads a structured option into {@code buffer} (whose content is passed in too, as for options that read a header).
     * @return the number of bytes the kernel wrote, or -errno
     */
    public static int getBytes(int fd, int level, int name, byte[] buffer) {
        long mem = AgentBinding.allocate(buffer.length + 4, false); // the value, then its length
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putBytes(mem, buffer, 0, buffer.length);
            AgentBinding.putInt(mem + buffer.length, buffer.length);
            long rc = AgentBinding.invokeN5(Jffi.GET_OPT, Jffi.GETSOCKOPT, fd, level, name, mem, mem + buffer.length);
            if ((int) rc != 0) {
                return -errno();
            }
            int length = Math.min(AgentBinding.getInt(mem + buffer.length), buffer.length);
            AgentBinding.getBytes(mem, buffer, 0, length);
            return length;
        } finally {
            AgentBinding.free(mem);
        }
    }

    /** Bytes of struct mptcp_full_info before its struct mptcp_info: four sizes, two counts, two pointers. */
    public static final int FULL_INFO_HEADER = 40;

    /**
     * {@code getsockopt(SOL_MPTCP, MPTCP_FULL_INFO)} (Linux 6.5+): an MPTCP connection and its subflows, read by the
     * kernel in one go under the socket's lock, into {@code b}'s native memory, where {@link FullInfo#bytes} reads it
     * with no copy: the struct {@code mptcp_full_info} at offset 0 ({@link #FULL_INFO_HEADER} bytes, with the sizes
     * the kernel used and {@code num_subflows}, then the first {@code infoSize} bytes of struct {@code mptcp_info});
     * then an area of {@code capacity} struct {@code mptcp_subflow_info} ({@code sfinfoSize} bytes asked each); then
     * an area of {@code capacity} struct {@code tcp_info} ({@code tcpinfoSize} bytes asked each). Within each area the
     * kernel writes one entry per subflow at the stride it reports in the header ({@code size_sfinfo_user} at offset
     * 12, {@code size_tcpinfo_user} at offset 4: the size asked, or less when its own structure is smaller).
     * One call into jffi; nothing allocated.
     * @return the connection's number of subflows (it may exceed {@code capacity}: only that many were written), or
     *         -errno (EOPNOTSUPP before Linux 6.5 and on a connection that fell back to TCP)
     */
    public static int mptcpFullInfo(int fd, FullInfo b, int infoSize, int capacity, int sfinfoSize, int tcpinfoSize) {
        int header = FULL_INFO_HEADER + infoSize;
        int length = header + capacity * (sfinfoSize + tcpinfoSize);
        java.nio.ByteBuffer h = b.bytes;
        if (h.capacity() < length) {
            throw new IllegalArgumentException("buffer of " + h.capacity() + " bytes, " + length + " needed");
        }
        request(b, header, capacity, sfinfoSize, tcpinfoSize);
        long rc = AgentBinding.invokeN5(Jffi.GET_OPT_NO_ERRNO, Jffi.GETSOCKOPT, fd, LibC.SOL_MPTCP,
                LibC.MPTCP_FULL_INFO, b.address, b.address - 8);
        if ((int) rc != 0) {
            // seldom (a connection gone, a kernel before 6.5): asked again, saving errno this time, to say why
            request(b, header, capacity, sfinfoSize, tcpinfoSize);
            rc = AgentBinding.invokeN5(Jffi.GET_OPT, Jffi.GETSOCKOPT, fd, LibC.SOL_MPTCP, LibC.MPTCP_FULL_INFO,
                    b.address, b.address - 8);
            if ((int) rc != 0) {
                return -errno();
            }
        }
        return h.getInt(16);
    }

    /**
     * Writes {@link #mptcpFullInfo}'s request into {@code b}: the option's length, the sizes asked and the two areas.
     * What the kernel writes back (its own sizes, num_subflows) must be 0 when asked, or it answers EINVAL: the
     * buffer is reused.
     */
    private static void request(FullInfo b, int header, int capacity, int sfinfoSize, int tcpinfoSize) {
        java.nio.ByteBuffer h = b.bytes;
        b.whole.putInt(0, header);
        h.putInt(0, 0);
        h.putInt(4, tcpinfoSize);
        h.putInt(8, 0);
        h.putInt(12, sfinfoSize);
        h.putInt(16, 0);
        h.putInt(20, capacity);
        long subflows = b.address + header;
        h.putLong(24, subflows);
        h.putLong(32, subflows + (long) capacity * sfinfoSize);
    }

    /**
     * Native memory for {@link #mptcpFullInfo}, with a view of it: a direct buffer (freed by the garbage collector
     * once unreachable, never by hand, so that no use can outlive it), 8 bytes for the option's length, then the
     * structures. Its Java view reads the kernel's answer in place (no copy, no call into jffi per field).
     */
    public static final class FullInfo {
        /** All of it, in the machine's byte order: the option's length (4 bytes at offset 0), then {@link #bytes}. */
        final java.nio.ByteBuffer whole;
        /** The structures, from offset 0, in the machine's byte order. */
        public final java.nio.ByteBuffer bytes;
        final long address;

        /** Room for {@code size} bytes of structures. */
        public FullInfo(int size) {
            whole = java.nio.ByteBuffer.allocateDirect(size + 8).order(java.nio.ByteOrder.nativeOrder());
            bytes = whole.slice(8, size).order(java.nio.ByteOrder.nativeOrder());
            address = AgentBinding.address(whole) + 8;
        }
    }

    /** Sets a structured option (SO_LINGER, ...) from the first {@code length} bytes of {@code value}; 0 or -errno. */
    public static int setBytes(int fd, int level, int name, byte[] value, int length) {
        long mem = AgentBinding.allocate(Math.max(length, 1), false);
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putBytes(mem, value, 0, length);
            long rc = AgentBinding.invokeN5(Jffi.SET_OPT, Jffi.SETSOCKOPT, fd, level, name, mem, length);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            AgentBinding.free(mem);
        }
    }

    /** bind(2) with a raw sockaddr as returned by {@link #address}; 0 or -errno. */
    public static int bind(int fd, byte[] sockaddr, int length) {
        long mem = AgentBinding.allocate(Math.max(length, 1), false);
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putBytes(mem, sockaddr, 0, length);
            long rc = AgentBinding.invokeN3(Jffi.BIND_ADDRESS, Jffi.BIND, fd, mem, length);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            AgentBinding.free(mem);
        }
    }

    /**
     * epoll_ctl with a struct epoll_event {u32 events; u64 data} (packed on x86-64, as the kernel's uapi declares it
     * there); 0 or -errno.
     */
    public static int epollCtl(int epfd, int op, int fd, int events, long data) {
        long event = AgentBinding.allocate(16, true);
        if (event == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putInt(event, events);
            AgentBinding.putLong(event + (PACKED_EPOLL_EVENT ? 4 : 8), data);
            long rc = AgentBinding.invokeN4(Jffi.EPOLL_EVENT, Jffi.EPOLL_CTL, epfd, op, fd, event);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            AgentBinding.free(event);
        }
    }

    /**
     * Native memory holding {@code name} as a C string, followed by {@code buffer} bytes for the call's result (at
     * {@code mem + name.length + 1}); 0 when none could be allocated. The caller frees it.
     */
    private static long pathThenBuffer(byte[] name, int buffer) {
        long mem = AgentBinding.allocate(name.length + 1 + buffer, false);
        if (mem != 0) {
            AgentBinding.putBytes(mem, name, 0, name.length);
            AgentBinding.putByte(mem + name.length, (byte) 0);
        }
        return mem;
    }

    /** O_RDONLY | O_CLOEXEC */
    private static final int READ_ONLY = 0x80000;

    /**
     * Reads file {@code path} (a /proc file: its size is not known beforehand) into {@code out}, from the start.
     * @return the number of bytes read (equal to {@code out.length}: there may be more), or -errno
     */
    public static int readFile(String path, byte[] out) {
        byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        long mem = pathThenBuffer(name, out.length);
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            int fd = (int) AgentBinding.invokeN2(Jffi.OPEN_PATH, Jffi.OPEN, mem, READ_ONLY);
            if (fd < 0) {
                return -errno();
            }
            long buffer = mem + name.length + 1;
            int total = 0;
            try {
                while (total < out.length) {
                    long n = AgentBinding.invokeN3(Jffi.READ_BUFFER, Jffi.READ, fd, buffer + total, out.length - total);
                    if (n < 0) {
                        int error = errno();
                        if (error == Errno.EINTR) {
                            continue;
                        }
                        return -error;
                    }
                    if (n == 0) {
                        break;
                    }
                    total += (int) n;
                }
            } finally {
                Jffi.call1(Jffi.CLOSE, fd);
            }
            AgentBinding.getBytes(buffer, out, 0, total);
            return total;
        } finally {
            AgentBinding.free(mem);
        }
    }

    /**
     * readlink(2) of {@code path} into {@code out}.
     * @return the length of the link's text (truncated to {@code out.length}), or -errno
     */
    public static int readLink(String path, byte[] out) {
        byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        long mem = pathThenBuffer(name, out.length);
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            long n = AgentBinding.invokeN3(Jffi.READ_LINK, Jffi.READLINK, mem, mem + name.length + 1, out.length);
            if (n < 0) {
                return -errno();
            }
            AgentBinding.getBytes(mem + name.length + 1, out, 0, (int) n);
            return (int) n;
        } finally {
            AgentBinding.free(mem);
        }
    }

    private static final boolean PACKED_EPOLL_EVENT = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"));

    /** SO_PROTOCOL of the socket: 6 for TCP, 262 for MPTCP; or -errno. */
    public static int protocol(int fd) {
        return getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
    }

    /** @return 0 or -errno */
    public static int close(int fd) {
        return Jffi.call1(Jffi.CLOSE, fd) == 0 ? 0 : -errno();
    }

    /** @return the file status flags (O_NONBLOCK, ...) or -errno */
    public static int statusFlags(int fd) {
        int flags = Jffi.call3(Jffi.FCNTL, fd, LibC.F_GETFL, 0);
        return flags < 0 ? -errno() : flags;
    }

    /**
     * tcpi_state of the socket (the first byte of struct tcp_info, which MPTCP sockets answer too): {@link LibC#TCP_CLOSE},
     * 1 for ESTABLISHED, 10 for LISTEN, ... as in the kernel's tcp_states.h; or -errno.
     */
    public static int tcpState(int fd) {
        // getsockopt truncates TCP_INFO to the 4 bytes asked for: tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes
        int info = getInt(fd, LibC.SOL_TCP, LibC.TCP_INFO);
        return info < 0 ? info : info & 0xFF;
    }

    /** SO_COOKIE: a number the kernel gives each socket once, never reused while it runs; or -errno. */
    public static long cookie(int fd) {
        byte[] b = new byte[8];
        int n = getBytes(fd, LibC.SOL_SOCKET, LibC.SO_COOKIE, b);
        if (n != 8) {
            return n < 0 ? n : -LibC.SO_COOKIE;
        }
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    /** 1 when {@code fd} is connected to an IPv4 peer through an AF_INET6 socket (::ffff:a.b.c.d), 0 if not, or -errno. */
    public static int peerIsIpv4Mapped(int fd) {
        byte[] a = new byte[128];
        int n = address(fd, true, a);
        return n < 0 ? n : SockAddr.ipv4Mapped(a);
    }

    /**
     * 1 when {@code fd} only talks to IPv4 peers through an AF_INET6 socket: connected to ::ffff:a.b.c.d, or listening
     * on such an address; 0 if not, or -errno.
     */
    public static int ipv4Only(int fd) {
        int peer = peerIsIpv4Mapped(fd);
        if (peer >= 0 || getInt(fd, LibC.SOL_SOCKET, LibC.SO_ACCEPTCONN) != 1) {
            return peer;
        }
        byte[] a = new byte[128];
        int n = address(fd, false, a);
        return n < 0 ? n : SockAddr.ipv4Mapped(a);
    }

    /**
     * The socket's local ({@code peer} false) or remote address as a raw sockaddr_in / sockaddr_in6 in {@code buffer}
     * (28 bytes are enough).
     * @return the address length, or -errno (ENOTCONN for the remote address of a socket that is not connected)
     */
    public static int address(int fd, boolean peer, byte[] buffer) {
        long mem = AgentBinding.allocate(buffer.length + 4, false); // the address, then its length
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putInt(mem + buffer.length, buffer.length);
            long rc = AgentBinding.invokeN3(Jffi.ADDRESS, peer ? Jffi.GETPEERNAME : Jffi.GETSOCKNAME, fd, mem,
                    mem + buffer.length);
            if ((int) rc != 0) {
                return -errno();
            }
            int length = Math.min(AgentBinding.getInt(mem + buffer.length), buffer.length);
            AgentBinding.getBytes(mem, buffer, 0, length);
            return length;
        } finally {
            AgentBinding.free(mem);
        }
    }

    /**
     * connect(2) with a raw sockaddr ({@link SockAddr#of}): 0, or -errno ({@code -EINPROGRESS} for a non-blocking
     * socket whose connection is under way).
     */
    public static int connect(int fd, byte[] sockaddr, int length) {
        long mem = AgentBinding.allocate(Math.max(length, 1), false);
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            AgentBinding.putBytes(mem, sockaddr, 0, length);
            long rc = AgentBinding.invokeN3(Jffi.BIND_ADDRESS, Jffi.Race.CONNECT, fd, mem, length);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            AgentBinding.free(mem);
        }
    }

    /** shutdown(2); 0 or -errno. */
    public static int shutdown(int fd, int how) {
        return Jffi.call2(Jffi.Race.SHUTDOWN, fd, how) == 0 ? 0 : -errno();
    }

    /** A second fd for the open file behind {@code fd} (the lowest free number, FD_CLOEXEC), or -errno. */
    public static int dup(int fd) {
        int n = Jffi.call3(Jffi.FCNTL, fd, LibC.F_DUPFD_CLOEXEC, 0);
        return n < 0 ? -errno() : n;
    }

    /**
     * poll(2) of {@code count} fds of {@code fds}, each for {@code events[i]}; the events that occurred are written to
     * {@code revents}. {@code timeoutMillis} -1 waits without limit.
     * @return the number of fds with events (0 on timeout), or -errno (-EINTR when a signal interrupted the wait)
     */
    public static int poll(int[] fds, short[] events, short[] revents, int count, int timeoutMillis) {
        long mem = AgentBinding.allocate(Math.max(count, 1) * 8L, true); // struct pollfd {int fd; short events, revents;}
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
            for (int i = 0; i < count; i++) {
                AgentBinding.putInt(mem + i * 8L, fds[i]);
                // events, then revents 0: one int in native order
                AgentBinding.putInt(mem + i * 8L + 4, little ? events[i] & 0xFFFF : (events[i] & 0xFFFF) << 16);
            }
            long n = AgentBinding.invokeN3(Jffi.Race.POLL_FDS, Jffi.Race.POLL, mem, count, timeoutMillis);
            if ((int) n < 0) {
                return -errno();
            }
            for (int i = 0; i < count; i++) {
                int both = AgentBinding.getInt(mem + i * 8L + 4);
                revents[i] = (short) (little ? both >>> 16 : both);
            }
            return (int) n;
        } finally {
            AgentBinding.free(mem);
        }
    }

    static int fcntl(int fd, int cmd, int arg) {
        return Jffi.call3(Jffi.FCNTL, fd, cmd, arg);
    }

    static int dup2(int oldFd, int newFd) {
        return Jffi.call2(Jffi.DUP2, oldFd, newFd);
    }
}
