package mptcp.sys;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicLongArray;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import jnr.ffi.LibraryLoader;
import jnr.ffi.byref.IntByReference;

/**
 * The socket primitives of the agent, one per syscall idea. Each returns a non-negative result on success and
 * {@code -errno} on failure, so callers never have to read errno themselves and never see an exception from here.
 *
 * <p>How the native calls are made, for start-up time (see docs/performance.md): the calls on the socket-creation path
 * (socket, setsockopt and getsockopt of an int, fcntl, dup2, close) go straight through jffi, jnr-ffi's own native
 * layer: one {@link CallContext} per C signature and the symbol addresses of libc, no generated code. Binding
 * {@link LibC} with jnr-ffi's {@link LibraryLoader} costs 150-450 ms at the first socket (hundreds of classes,
 * bytecode and x86 stub generation); it is done only for the one call that needs its array mapping,
 * {@link #getBytes} (diagnostics, never on the socket-creation or fallback path), on first use.
 */
public final class Sock {
    private Sock() {
    }

    /** jffi, the libc symbols and the call contexts: initialised at the first native call. */
    private static final class Direct {
        private static final String BOOT_PATH = "jffi.boot.library.path";
        /** jffi's stub library, as named inside its native jar (jffi 1.3: stub version 1.2). */
        private static final String STUB = "libjffi-1.2.so";
        private static final FileAttribute<?> PRIVATE =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

        static final Invoker INVOKER;
        static final MemoryIO MEMORY;
        static final LastError LAST_ERROR;
        static final long SOCKET;
        static final long SETSOCKOPT;
        static final long GETSOCKOPT;
        static final long FCNTL;
        static final long DUP2;
        static final long CLOSE;
        static final long STRERROR;
        static final long GETSOCKNAME;
        static final long GETPEERNAME;
        /** int f(int) */
        static final CallContext INT1;
        /** int f(int, int) */
        static final CallContext INT2;
        /** int f(int, int, int) */
        static final CallContext INT3;
        /** int setsockopt(int, int, int, const void *, socklen_t) */
        static final CallContext SET_OPT;
        /** int getsockopt(int, int, int, void *, socklen_t *) */
        static final CallContext GET_OPT;
        /** int getsockname / getpeername(int, struct sockaddr *, socklen_t *) */
        static final CallContext ADDRESS;
        /** char *f(int) */
        static final CallContext STRING_OF_INT;

        static {
            // jffi's memory access through sun.misc.Unsafe makes JDK 24+ print a deprecation warning; its JNI
            // implementation does the same without one. The property is read once, here; restored for anyone else.
            String old = System.getProperty("jffi.unsafe.disabled");
            System.setProperty("jffi.unsafe.disabled", "true");
            File stub = extractStub();
            if (stub != null) {
                System.setProperty(BOOT_PATH, stub.getParent());
            }
            try {
                MEMORY = MemoryIO.getInstance();
            } finally {
                restore("jffi.unsafe.disabled", old);
                if (stub != null) {
                    System.clearProperty(BOOT_PATH);
                    stub.delete(); // loaded (or not): either way the file is no longer needed
                    stub.getParentFile().delete();
                }
            }
            INVOKER = Invoker.getInstance();
            LAST_ERROR = LastError.getInstance();
            Library libc = Library.getCachedInstance("libc.so.6", Library.LAZY | Library.GLOBAL);
            if (libc == null) {
                throw new UnsatisfiedLinkError("cannot open libc.so.6: " + Library.getLastError());
            }
            SOCKET = symbol(libc, "socket");
            SETSOCKOPT = symbol(libc, "setsockopt");
            GETSOCKOPT = symbol(libc, "getsockopt");
            FCNTL = symbol(libc, "fcntl");
            DUP2 = symbol(libc, "dup2");
            CLOSE = symbol(libc, "close");
            STRERROR = symbol(libc, "strerror");
            GETSOCKNAME = symbol(libc, "getsockname");
            GETPEERNAME = symbol(libc, "getpeername");
            INT1 = context(Type.SINT);
            INT2 = context(Type.SINT, Type.SINT);
            INT3 = context(Type.SINT, Type.SINT, Type.SINT);
            SET_OPT = context(Type.SINT, Type.SINT, Type.SINT, Type.POINTER, Type.UINT);
            GET_OPT = context(Type.SINT, Type.SINT, Type.SINT, Type.POINTER, Type.POINTER);
            ADDRESS = context(Type.SINT, Type.POINTER, Type.POINTER);
            STRING_OF_INT = CallContext.getCallContext(Type.POINTER, new Type[] {Type.SINT}, CallingConvention.DEFAULT, false);
        }

        private static void restore(String key, String value) {
            if (value == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, value);
            }
        }

        /**
         * Writes jffi's stub library for this platform into a new private directory, for jffi to load from there
         * (through {@code jffi.boot.library.path}, set only while jffi initialises). jffi's own extraction names its
         * temporary file with {@link File#createTempFile}, whose SecureRandom initialises the JDK's security
         * providers: 25-40 ms at the first socket of a JVM that would otherwise never need them. The directory is
         * made with mode 0700 under a fresh name (creation fails rather than reuse an existing one), in
         * {@code jffi.extract.dir} when set, else {@code java.io.tmpdir}; file and directory are deleted as soon
         * as jffi has loaded the library. Returns null, leaving jffi to its own ways, when the user set
         * {@code jffi.boot.library.path}, on other platforms, or on any error.
         */
        private static File extractStub() {
            if (System.getProperty(BOOT_PATH) != null || !"Linux".equals(System.getProperty("os.name"))) {
                return null;
            }
            String arch = System.getProperty("os.arch", "");
            String platform = "amd64".equals(arch) || "x86_64".equals(arch) ? "x86_64-Linux"
                    : "aarch64".equals(arch) ? "aarch64-Linux" : null;
            ClassLoader loader = Sock.class.getClassLoader();
            if (platform == null || loader == null) {
                return null;
            }
            try (InputStream in = loader.getResourceAsStream("jni/".concat(platform).concat("/").concat(STUB))) {
                if (in == null) {
                    return null;
                }
                String parent = System.getProperty("jffi.extract.dir", System.getProperty("java.io.tmpdir"));
                for (int attempt = 0; ; attempt++) {
                    File dir = new File(parent, "mptcp-agent-jffi-".concat(Long.toHexString(System.nanoTime())));
                    try {
                        Files.createDirectory(dir.toPath(), PRIVATE);
                    } catch (FileAlreadyExistsException e) {
                        if (attempt < 3) {
                            continue;
                        }
                        return null;
                    }
                    File stub = new File(dir, STUB);
                    try {
                        Files.copy(in, stub.toPath());
                    } catch (IOException | RuntimeException e) {
                        stub.delete();
                        dir.delete();
                        return null;
                    }
                    return stub;
                }
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        private static long symbol(Library libc, String name) {
            long address = libc.getSymbolAddress(name);
            if (address == 0) {
                throw new UnsatisfiedLinkError("libc has no " + name + ": " + Library.getLastError());
            }
            return address;
        }

        /** An int-returning C function of these parameters, default ABI, saving errno after each call. */
        private static CallContext context(Type... parameters) {
            return CallContext.getCallContext(Type.SINT, parameters, CallingConvention.DEFAULT, true);
        }

        static int call1(long function, int a) {
            return INVOKER.invokeI1(INT1, function, a);
        }

        static int call2(long function, int a, int b) {
            return INVOKER.invokeI2(INT2, function, a, b);
        }

        static int call3(long function, int a, int b, int c) {
            return INVOKER.invokeI3(INT3, function, a, b, c);
        }
    }

    /** The jnr-ffi binding of {@link LibC}, for the calls outside the socket-creation path: made on first use. */
    private static final class Mapped {
        static final LibC C;

        static {
            Direct.MEMORY.getClass(); // same jffi set-up (and property handling) as the direct calls
            C = LibraryLoader.create(LibC.class).load("c");
        }
    }

    /** Forces the native binding used on the socket-creation path to load (jffi stub); throws if it cannot. */
    public static void load() {
        Direct.INVOKER.getClass();
    }

    /** errno of the last failed call on this thread, as a positive number. */
    public static int errno() {
        return Direct.LAST_ERROR.get();
    }

    public static String strerror(int errno) {
        try {
            long text = Direct.INVOKER.invokeN1(Direct.STRING_OF_INT, Direct.STRERROR, errno);
            return text == 0 ? null : new String(Direct.MEMORY.getZeroTerminatedByteArray(text), java.nio.charset.StandardCharsets.UTF_8);
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
        int fd = Direct.call3(Direct.SOCKET, domain, LibC.SOCK_STREAM, protocol);
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
            Direct.call1(Direct.CLOSE, fd);
            return rc;
        }
        return fd;
    }

    /** @return 0 or -errno */
    public static int setInt(int fd, int level, int name, int value) {
        long buffer = takeBuffer();
        if (buffer == 0) {
            return -12; // ENOMEM
        }
        try {
            Direct.MEMORY.putInt(buffer, value);
            long rc = Direct.INVOKER.invokeN5(Direct.SET_OPT, Direct.SETSOCKOPT, fd, level, name, buffer, 4);
            return (int) rc == 0 ? 0 : -errno();
        } finally {
            giveBack(buffer);
        }
    }

    /**
     * Allocates nothing in steady state (it runs after every connect and accept).
     * @return the option's value (non-negative for every option read here), or -errno
     */
    public static int getInt(int fd, int level, int name) {
        long buffer = takeBuffer(); // the value, then its length
        if (buffer == 0) {
            return -12; // ENOMEM
        }
        try {
            Direct.MEMORY.putInt(buffer, 0);
            Direct.MEMORY.putInt(buffer + 4, 4);
            long rc = Direct.INVOKER.invokeN5(Direct.GET_OPT, Direct.GETSOCKOPT, fd, level, name, buffer, buffer + 4);
            return (int) rc == 0 ? Direct.MEMORY.getInt(buffer) : -errno();
        } finally {
            giveBack(buffer);
        }
    }

    /** Native 8-byte scratch buffers (an int and its length) shared by all threads; 0 marks an empty slot. */
    private static final AtomicLongArray BUFFERS = new AtomicLongArray(64);

    private static long takeBuffer() {
        int start = (int) (Thread.currentThread().getId() & 63);
        for (int i = 0; i < 64; i++) {
            long buffer = BUFFERS.getAndSet((start + i) & 63, 0);
            if (buffer != 0) {
                return buffer;
            }
        }
        return Direct.MEMORY.allocateMemory(8, false);
    }

    private static void giveBack(long buffer) {
        int start = (int) (Thread.currentThread().getId() & 63);
        for (int i = 0; i < 64; i++) {
            if (BUFFERS.compareAndSet((start + i) & 63, 0, buffer)) {
                return;
            }
        }
        Direct.MEMORY.freeMemory(buffer);
    }

    /**
     * Reads a structured option into {@code buffer}.
     * @return the number of bytes the kernel wrote, or -errno
     */
    public static int getBytes(int fd, int level, int name, byte[] buffer) {
        IntByReference length = new IntByReference(buffer.length);
        int rc = Mapped.C.getsockopt(fd, level, name, buffer, length);
        return rc == 0 ? length.intValue() : -errno(); // jnr-ffi saves errno in the same jffi LastError
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
        return swap(fd, protocol, false);
    }

    /**
     * {@link #replace} for a socket whose creation the caller saw and on which nothing was set since (no option, not
     * bound): its domain, dual-stack setting and SO_REUSEADDR are those given here, only O_NONBLOCK is read (FD_CLOEXEC
     * is never set on such sockets). About half the syscalls of {@link #replace}.
     * @return 0, or -errno of the first failing step (the original socket is then left untouched)
     */
    public static int replaceFresh(int fd, int domain, int protocol, boolean dualStack, boolean reuseAddress) {
        int flags = fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0) {
            return -errno();
        }
        int fresh = open(domain, protocol, dualStack, reuseAddress);
        if (fresh < 0) {
            return fresh;
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        close(fresh);
        return 0;
    }

    /** @return 0 or -errno */
    public static int close(int fd) {
        return Direct.call1(Direct.CLOSE, fd) == 0 ? 0 : -errno();
    }

    /** @return the file status flags (O_NONBLOCK, ...) or -errno */
    public static int statusFlags(int fd) {
        int flags = Direct.call3(Direct.FCNTL, fd, LibC.F_GETFL, 0);
        return flags < 0 ? -errno() : flags;
    }

    private static int closeWithError(int fd) {
        int error = errno();
        Direct.call1(Direct.CLOSE, fd);
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
        // the first 4 bytes of struct tcp_info: tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes
        int info = getInt(fd, LibC.SOL_TCP, LibC.TCP_INFO);
        return info >= 0 && (info & 0xFF) == LibC.TCP_CLOSE;
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
            return -Errno.EISCONN;
        }
        return swap(fd, protocol, true);
    }

    /**
     * The one way the agent changes a socket's protocol: a fresh socket of {@code protocol} with the old one's domain,
     * IPV6_V6ONLY and SO_REUSEADDR (and, when {@code carry}, its other options and bound address: {@link #carry}),
     * O_NONBLOCK and FD_CLOEXEC, dup2()ed over {@code fd}.
     */
    private static int swap(int fd, int protocol, boolean carry) {
        int domain = getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain < 0) {
            return domain;
        }
        int v6only = domain == LibC.AF_INET6 ? getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : 1;
        int reuse = getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
        int flags = fcntl(fd, LibC.F_GETFL, 0);
        int fdFlags = fcntl(fd, LibC.F_GETFD, 0);
        if (v6only < 0 || reuse < 0 || flags < 0 || fdFlags < 0) {
            return -errno();
        }
        int fresh = open(domain, protocol, v6only == 0, reuse != 0);
        if (fresh < 0) {
            return fresh;
        }
        int rc = carry ? carry(fd, fresh, reuse) : 0;
        if (rc < 0) {
            close(fresh);
            return rc;
        }
        if ((flags & LibC.O_NONBLOCK) != 0 && fcntl(fresh, LibC.F_SETFL, flags) < 0) {
            return closeWithError(fresh);
        }
        if (dup2(fresh, fd) < 0) {
            return closeWithError(fresh);
        }
        close(fresh);
        if ((fdFlags & LibC.FD_CLOEXEC) != 0) {
            fcntl(fd, LibC.F_SETFD, fdFlags);
        }
        return 0;
    }

    /**
     * Copies to {@code fresh} the options in {@link #CARRIED} and SO_LINGER wherever {@code fd}'s differ from a fresh
     * socket's, and binds it to {@code fd}'s local address if {@code fd} is bound.
     * @return 0 or -errno (the caller closes {@code fresh})
     */
    private static int carry(int fd, int fresh, int reuse) {
        for (int[] o : CARRIED) {
            int old = getInt(fd, o[0], o[1]);
            if (old >= 0 && old != getInt(fresh, o[0], o[1])) {
                int rc = setInt(fresh, o[0], o[1], o[2] == 1 ? old / 2 : old);
                if (rc < 0) {
                    return rc;
                }
            }
        }
        byte[] linger = new byte[8];
        byte[] freshLinger = new byte[8];
        if (getBytes(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger) == 8
                && getBytes(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, freshLinger) == 8
                && !java.util.Arrays.equals(linger, freshLinger)
                && Mapped.C.setsockopt(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, linger, 8) < 0) {
            return -errno();
        }
        byte[] local = new byte[128];
        int length = address(fd, false, local);
        if (length < 0) {
            return length;
        }
        if (port(local) != 0) {
            // bound: bind the new socket to the same address first; both need SO_REUSEADDR meanwhile (neither listens)
            if (reuse == 0 && setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) < 0) {
                return -errno();
            }
            int rc = reuse == 0 ? setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 1) : 0;
            if (rc == 0 && Mapped.C.bind(fresh, local, length) < 0) {
                rc = -errno();
            }
            if (reuse == 0) {
                setInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                if (rc == 0) {
                    rc = setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, 0);
                }
            }
            if (rc < 0) {
                return rc;
            }
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
        int n = address(fd, true, a);
        return n < 0 ? n : ipv4Mapped(a);
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
        return n < 0 ? n : ipv4Mapped(a);
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

    /**
     * The socket's local ({@code peer} false) or remote address as a raw sockaddr_in / sockaddr_in6 in {@code buffer}
     * (28 bytes are enough).
     * @return the address length, or -errno (ENOTCONN for the remote address of a socket that is not connected)
     */
    public static int address(int fd, boolean peer, byte[] buffer) {
        MemoryIO memory = Direct.MEMORY;
        long mem = memory.allocateMemory(buffer.length + 4, false); // the address, then its length
        if (mem == 0) {
            return -12; // ENOMEM
        }
        try {
            memory.putInt(mem + buffer.length, buffer.length);
            long rc = Direct.INVOKER.invokeN3(Direct.ADDRESS, peer ? Direct.GETPEERNAME : Direct.GETSOCKNAME, fd, mem,
                    mem + buffer.length);
            if ((int) rc != 0) {
                return -errno();
            }
            int length = Math.min(memory.getInt(mem + buffer.length), buffer.length);
            memory.getByteArray(mem, buffer, 0, length);
            return length;
        } finally {
            memory.freeMemory(mem);
        }
    }

    private static int fcntl(int fd, int cmd, int arg) {
        return Direct.call3(Direct.FCNTL, fd, cmd, arg);
    }

    private static int dup2(int oldFd, int newFd) {
        return Direct.call2(Direct.DUP2, oldFd, newFd);
    }
}
