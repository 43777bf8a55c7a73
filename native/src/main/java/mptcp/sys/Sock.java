package mptcp.sys;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;

/**
 * The socket primitives of the agent, one per syscall idea. Each returns a non-negative result on success and
 * {@code -errno} on failure, so callers never have to read errno themselves and never see an exception from here.
 */
public final class Sock {
    static {
        // jffi's memory access through sun.misc.Unsafe makes JDK 24+ print a deprecation warning; its JNI
        // implementation does the same without one. The property is read once, here; restored for anyone else.
        String old = System.getProperty("jffi.unsafe.disabled");
        System.setProperty("jffi.unsafe.disabled", "true");
        try {
            com.kenai.jffi.MemoryIO.getInstance();
        } finally {
            if (old == null) {
                System.clearProperty("jffi.unsafe.disabled");
            } else {
                System.setProperty("jffi.unsafe.disabled", old);
            }
        }
    }

    private static final LibC C = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(C);

    private Sock() {
    }

    /** Forces the native binding to load (jffi stub extraction, stub generation); throws if it cannot. */
    public static void load() {
        C.getClass();
    }

    /** errno of the last failed call on this thread, as a positive number. */
    public static int errno() {
        return RUNTIME.getLastError();
    }

    public static String strerror(int errno) {
        try {
            return C.strerror(errno);
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
        int fd = C.socket(domain, LibC.SOCK_STREAM, protocol);
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
            C.close(fd);
            return rc;
        }
        return fd;
    }

    /** @return 0 or -errno */
    public static int setInt(int fd, int level, int name, int value) {
        return C.setsockopt(fd, level, name, new IntByReference(value), 4) == 0 ? 0 : -errno();
    }

    /** @return the option's value (non-negative for every option read here), or -errno */
    public static int getInt(int fd, int level, int name) {
        IntByReference value = new IntByReference();
        IntByReference length = new IntByReference(4);
        return C.getsockopt(fd, level, name, value, length) == 0 ? value.intValue() : -errno();
    }

    /**
     * Reads a structured option into {@code buffer}.
     * @return the number of bytes the kernel wrote, or -errno
     */
    public static int getBytes(int fd, int level, int name, byte[] buffer) {
        IntByReference length = new IntByReference(buffer.length);
        return C.getsockopt(fd, level, name, buffer, length) == 0 ? length.intValue() : -errno();
    }

    /** SO_PROTOCOL of the socket: 6 for TCP, 262 for MPTCP; or -errno. */
    public static int protocol(int fd) {
        return getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
    }

    /**
     * Gives the open, not yet bound or connected stream socket {@code fd} a new protocol, keeping its fd number,
     * domain, dual-stack setting, SO_REUSEADDR, O_NONBLOCK and FD_CLOEXEC: a fresh socket is made and dup2()ed over
     * {@code fd}. Anything else set on the old socket is lost, so call it right after the socket was made.
     * @return 0, or -errno of the first failing step (the original socket is then left untouched)
     */
    public static int replace(int fd, int protocol) {
        int domain = getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain < 0) {
            return domain;
        }
        int v6only = domain == LibC.AF_INET6 ? getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : 1;
        int reuse = getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
        int flags = C.fcntl(fd, LibC.F_GETFL, 0);
        int fdFlags = C.fcntl(fd, LibC.F_GETFD, 0);
        if (v6only < 0 || reuse < 0 || flags < 0 || fdFlags < 0) {
            return -errno();
        }
        int fresh = open(domain, protocol, v6only == 0, reuse != 0);
        if (fresh < 0) {
            return fresh;
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && C.fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (C.dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        C.close(fresh);
        if ((fdFlags & LibC.FD_CLOEXEC) != 0) {
            C.fcntl(fd, LibC.F_SETFD, fdFlags);
        }
        return 0;
    }

    /** @return 0 or -errno */
    public static int close(int fd) {
        return C.close(fd) == 0 ? 0 : -errno();
    }

    /** @return the file status flags (O_NONBLOCK, ...) or -errno */
    public static int statusFlags(int fd) {
        int flags = C.fcntl(fd, LibC.F_GETFL, 0);
        return flags < 0 ? -errno() : flags;
    }

    private static int closeWithError(int fd) {
        int error = errno();
        C.close(fd);
        return -error;
    }

    /** Integer options {@link #convert} carries over: level, name, and whether the kernel reports twice the set value. */
    private static final int[][] CARRIED = {
        {LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 0},
        {LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 0},
        {LibC.SOL_SOCKET, LibC.SO_RCVBUF, 1},
        {LibC.SOL_SOCKET, LibC.SO_SNDBUF, 1},
        {LibC.IPPROTO_IP, LibC.IP_TOS, 0},
        {LibC.SOL_TCP, LibC.TCP_NODELAY, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPIDLE, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPINTVL, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPCNT, 0},
    };

    /**
     * True when {@code fd} is a stream socket that is neither listening nor connected nor connecting (TCP_INFO state
     * CLOSE): the only state in which {@link #convert} may swap its protocol.
     */
    public static boolean unconnected(int fd) {
        if (getInt(fd, LibC.SOL_SOCKET, LibC.SO_ACCEPTCONN) != 0) {
            return false;
        }
        byte[] info = new byte[8];
        return getBytes(fd, LibC.SOL_TCP, LibC.TCP_INFO, info) >= 1 && info[0] == LibC.TCP_CLOSE;
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
        if (!unconnected(fd)) {
            return -106; // EISCONN
        }
        int domain = getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain < 0) {
            return domain;
        }
        int v6only = domain == LibC.AF_INET6 ? getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : 1;
        int reuse = getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
        int flags = C.fcntl(fd, LibC.F_GETFL, 0);
        int fdFlags = C.fcntl(fd, LibC.F_GETFD, 0);
        if (v6only < 0 || reuse < 0 || flags < 0 || fdFlags < 0) {
            return -errno();
        }
        int fresh = open(domain, protocol, v6only == 0, reuse != 0);
        if (fresh < 0) {
            return fresh;
        }
        for (int[] o : CARRIED) {
            int old = getInt(fd, o[0], o[1]);
            if (old >= 0 && old != getInt(fresh, o[0], o[1])) {
                int rc = setInt(fresh, o[0], o[1], o[2] == 1 ? old / 2 : old);
                if (rc < 0) {
                    close(fresh);
                    return rc;
                }
            }
        }
        byte[] linger = new byte[8];
        byte[] freshLinger = new byte[8];
        if (getBytes(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger) == 8
                && getBytes(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, freshLinger) == 8
                && !java.util.Arrays.equals(linger, freshLinger)
                && C.setsockopt(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, linger, 8) < 0) {
            return closeWithError(fresh);
        }
        byte[] local = new byte[128];
        IntByReference length = new IntByReference(local.length);
        if (C.getsockname(fd, local, length) < 0) {
            return closeWithError(fresh);
        }
        if (port(local) != 0) {
            // bound: bind the new socket to the same address first; both need SO_REUSEADDR meanwhile (neither listens)
            if (reuse == 0 && setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) < 0) {
                return closeWithError(fresh);
            }
            int rc = reuse == 0 ? setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) : 0;
            if (rc == 0 && C.bind(fresh, local, length.intValue()) < 0) {
                rc = -errno();
            }
            if (reuse == 0) {
                setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                if (rc == 0) {
                    rc = setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                }
            }
            if (rc < 0) {
                close(fresh);
                return rc;
            }
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && C.fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (C.dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        C.close(fresh);
        if ((fdFlags & LibC.FD_CLOEXEC) != 0) {
            C.fcntl(fd, LibC.F_SETFD, fdFlags);
        }
        return 0;
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
        IntByReference length = new IntByReference(a.length);
        if (C.getpeername(fd, a, length) < 0) {
            return -errno();
        }
        return ipv4Mapped(a);
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
        IntByReference length = new IntByReference(a.length);
        return C.getsockname(fd, a, length) < 0 ? -errno() : ipv4Mapped(a);
    }

    private static int ipv4Mapped(byte[] a) {
        if ((a[0] & 0xFF | (a[1] & 0xFF) << 8) != LibC.AF_INET6) {
            return 0;
        }
        for (int i = 8; i < 18; i++) {
            if (a[i] != 0) {
                return 0;
            }
        }
        return a[18] == (byte) 0xFF && a[19] == (byte) 0xFF ? 1 : 0;
    }

    /** The port of a sockaddr_in or sockaddr_in6 (same offset, network byte order). */
    private static int port(byte[] sockaddr) {
        return (sockaddr[2] & 0xFF) << 8 | (sockaddr[3] & 0xFF);
    }

    // --- observability: cheap reads after connect/accept, addresses for status ---

    /** Native 8-byte buffers (int value + int length) for {@link #getIntNoAlloc}, reused; 0 marks an empty slot. */
    private static final java.util.concurrent.atomic.AtomicLongArray BUFFERS = new java.util.concurrent.atomic.AtomicLongArray(64);
    private static final com.kenai.jffi.MemoryIO MEMORY = com.kenai.jffi.MemoryIO.getInstance();

    /**
     * Same as {@link #getInt} but allocating nothing in steady state (a small pool of native buffers, no Java
     * objects): for the path every connection takes.
     */
    public static int getIntNoAlloc(int fd, int level, int name) {
        long buffer = 0;
        int start = (int) (Thread.currentThread().getId() & 63);
        for (int i = 0; i < 64 && buffer == 0; i++) {
            buffer = BUFFERS.getAndSet((start + i) & 63, 0);
        }
        if (buffer == 0) {
            buffer = MEMORY.allocateMemory(8, true);
            if (buffer == 0) {
                return getInt(fd, level, name);
            }
        }
        try {
            MEMORY.putInt(buffer + 4, 4);
            return C.getsockopt(fd, level, name, buffer, buffer + 4) == 0 ? MEMORY.getInt(buffer) : -errno();
        } finally {
            boolean kept = false;
            for (int i = 0; i < 64 && !kept; i++) {
                kept = BUFFERS.compareAndSet((start + i) & 63, 0, buffer);
            }
            if (!kept) {
                MEMORY.freeMemory(buffer);
            }
        }
    }

    /**
     * The socket's local ({@code peer} false) or remote address as a raw sockaddr_in / sockaddr_in6 in {@code buffer}
     * (28 bytes are enough).
     * @return the address length, or -errno (ENOTCONN for the remote address of a socket that is not connected)
     */
    public static int address(int fd, boolean peer, byte[] buffer) {
        IntByReference length = new IntByReference(buffer.length);
        int rc = peer ? C.getpeername(fd, buffer, length) : C.getsockname(fd, buffer, length);
        return rc == 0 ? length.intValue() : -errno();
    }
}
