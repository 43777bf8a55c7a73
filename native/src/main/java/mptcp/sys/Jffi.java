package mptcp.sys;

import java.io.File;

import com.kenai.jffi.AgentBinding;

/**
 * The native binding, set up at the first native call: jffi's native stub (jnr-ffi's own native layer) reached
 * through {@link AgentBinding} (its natives without jffi's Java layer), the libc symbols and one call context per C
 * signature, no generated code. A jnr-ffi binding ({@code LibraryLoader}) costs 150-450 ms to generate (hundreds of
 * classes, bytecode and x86 stubs): too much for the first socket, or for the first socket a rule converts on an event
 * loop thread (docs/performance.md); structures (options, addresses) go through native memory here instead.
 */
final class Jffi {
    private Jffi() {
    }

    static final String BOOT_PATH = "jffi.boot.library.path";

    /** libc's handle (dlopen). */
    private static final long LIBC;
    static final long SOCKET;
    static final long SETSOCKOPT;
    static final long GETSOCKOPT;
    static final long FCNTL;
    static final long DUP2;
    static final long CLOSE;
    static final long STRERROR;
    static final long GETSOCKNAME;
    static final long GETPEERNAME;
    static final long BIND;
    static final long EPOLL_CTL;
    static final long OPEN;
    static final long READ;
    static final long READLINK;
    /** int f(int) */
    static final long INT1;
    /** int f(int, int) */
    static final long INT2;
    /** int f(int, int, int) */
    static final long INT3;
    /** int setsockopt(int, int, int, const void *, socklen_t) */
    static final long SET_OPT;
    /** int getsockopt(int, int, int, void *, socklen_t *) */
    static final long GET_OPT;
    /**
     * getsockopt's signature without saving errno (jffi's save after each call is a tenth of a microsecond): for reads
     * that are asked often and seldom fail, repeated through {@link #GET_OPT} when they do, to learn why.
     */
    static final long GET_OPT_NO_ERRNO;
    /** int getsockname / getpeername(int, struct sockaddr *, socklen_t *) */
    static final long ADDRESS;
    /** int bind(int, const struct sockaddr *, socklen_t) */
    static final long BIND_ADDRESS;
    /** int epoll_ctl(int, int, int, struct epoll_event *) */
    static final long EPOLL_EVENT;
    /** int open(const char *, int) */
    static final long OPEN_PATH;
    /** ssize_t read(int, void *, size_t) */
    static final long READ_BUFFER;
    /** ssize_t readlink(const char *, char *, size_t) */
    static final long READ_LINK;
    /** char *f(int) */
    static final long STRING_OF_INT;

    static {
        // No system property is touched (they are global: the application could see them change while it
        // starts): the stub's directory goes to jffi through AgentBinding.stubDirectory.
        File stub = StubFile.extract();
        if (stub != null) {
            AgentBinding.stubDirectory = stub.getParent();
            AgentBinding.stubFallback = StubFile.kept(stub) ? StubFile.FALLBACK : null;
        } else {
            AgentBinding.stubRefused = StubFile.refusal(); // then no stub at all, never one jffi writes by path
        }
        try {
            AgentBinding.load();
            if (AgentBinding.stubLoaded != null) { // loaded now, from what StubFile offered (else: loaded before)
                StubFile.checkMapped();
            }
        } finally {
            AgentBinding.stubDirectory = null;
            AgentBinding.stubFallback = null;
            AgentBinding.stubRefused = null;
            StubFile.loaded();
            PrivateDir.release(false); // unless the class cache claimed the directory for the application's start-up
        }
        long libc = AgentBinding.dlopen("libc.so.6", AgentBinding.RTLD_LAZY | AgentBinding.RTLD_GLOBAL);
        if (libc == 0) {
            throw new UnsatisfiedLinkError("cannot open libc.so.6: " + AgentBinding.dlerror());
        }
        LIBC = libc;
        SOCKET = symbol(libc, "socket");
        SETSOCKOPT = symbol(libc, "setsockopt");
        GETSOCKOPT = symbol(libc, "getsockopt");
        FCNTL = symbol(libc, "fcntl");
        DUP2 = symbol(libc, "dup2");
        CLOSE = symbol(libc, "close");
        STRERROR = symbol(libc, "strerror");
        GETSOCKNAME = symbol(libc, "getsockname");
        GETPEERNAME = symbol(libc, "getpeername");
        BIND = symbol(libc, "bind");
        EPOLL_CTL = symbol(libc, "epoll_ctl");
        OPEN = symbol(libc, "open");
        READ = symbol(libc, "read");
        READLINK = symbol(libc, "readlink");
        int i = AgentBinding.SINT32;
        int u = AgentBinding.UINT32;
        int p = AgentBinding.POINTER;
        INT1 = context(i, i);
        INT2 = context(i, i, i);
        INT3 = context(i, i, i, i);
        SET_OPT = context(i, i, i, i, p, u);
        GET_OPT = context(i, i, i, i, p, p);
        GET_OPT_NO_ERRNO = AgentBinding.callContext(i, new int[] {i, i, i, p, p}, false);
        ADDRESS = context(i, i, p, p);
        BIND_ADDRESS = context(i, i, p, u);
        EPOLL_EVENT = context(i, i, i, i, p);
        OPEN_PATH = context(i, p, i);
        READ_BUFFER = context(AgentBinding.SLONG, i, p, AgentBinding.ULONG);
        READ_LINK = context(AgentBinding.SLONG, p, p, AgentBinding.ULONG);
        STRING_OF_INT = AgentBinding.callContext(p, new int[] {i}, false);
    }

    /**
     * The calls only the connect race needs (connect, shutdown, poll: policy.Races), bound at their first use rather
     * than with the rest at start-up.
     */
    static final class Race {
        static final long CONNECT;
        static final long SHUTDOWN;
        static final long POLL;
        /** int poll(struct pollfd *, nfds_t, int) */
        static final long POLL_FDS;

        static {
            CONNECT = symbol(LIBC, "connect");
            SHUTDOWN = symbol(LIBC, "shutdown");
            POLL = symbol(LIBC, "poll");
            POLL_FDS = context(AgentBinding.SINT32, AgentBinding.POINTER, AgentBinding.ULONG, AgentBinding.SINT32);
        }

        private Race() {
        }
    }

    private static long symbol(long libc, String name) {
        long address = AgentBinding.dlsym(libc, name);
        if (address == 0) {
            throw new UnsatisfiedLinkError("libc has no " + name + ": " + AgentBinding.dlerror());
        }
        return address;
    }

    /** A C function returning {@code result} and taking {@code parameters} (AgentBinding's types), saving errno. */
    private static long context(int result, int... parameters) {
        return AgentBinding.callContext(result, parameters, true);
    }

    static int call1(long function, int a) {
        return AgentBinding.invokeI1(INT1, function, a);
    }

    static int call2(long function, int a, int b) {
        return AgentBinding.invokeI2(INT2, function, a, b);
    }

    static int call3(long function, int a, int b, int c) {
        return AgentBinding.invokeI3(INT3, function, a, b, c);
    }
}
