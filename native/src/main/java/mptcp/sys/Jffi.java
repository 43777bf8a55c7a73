package mptcp.sys;

import java.io.File;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;

/**
 * The native binding, set up at the first native call: jffi (jnr-ffi's own native layer), the libc symbols and one
 * {@link CallContext} per C signature, no generated code. A jnr-ffi binding ({@code LibraryLoader}) costs 150-450 ms
 * to generate (hundreds of classes, bytecode and x86 stubs): too much for the first socket, or for the first socket a
 * rule converts on an event loop thread (docs/performance.md); structures (options, addresses) go through native
 * memory here instead.
 */
final class Jffi {
    private Jffi() {
    }

    static final String BOOT_PATH = "jffi.boot.library.path";

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
    static final long BIND;
    static final long EPOLL_CTL;
    static final long OPEN;
    static final long READ;
    static final long READLINK;
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
    /** int bind(int, const struct sockaddr *, socklen_t) */
    static final CallContext BIND_ADDRESS;
    /** int epoll_ctl(int, int, int, struct epoll_event *) */
    static final CallContext EPOLL_EVENT;
    /** int open(const char *, int) */
    static final CallContext OPEN_PATH;
    /** ssize_t read(int, void *, size_t) */
    static final CallContext READ_BUFFER;
    /** ssize_t readlink(const char *, char *, size_t) */
    static final CallContext READ_LINK;
    /** char *f(int) */
    static final CallContext STRING_OF_INT;

    static {
        // No system property is touched (they are global: the application could see them change while it
        // starts): the stub's directory goes to jffi through com.kenai.jffi.AgentStub, and jffi's JNI memory access
        // (not sun.misc.Unsafe, whose use prints a warning on JDK 24+) is chosen by the agent's own
        // com.kenai.jffi.MemoryIO$SingletonHolder.
        File stub = StubFile.extract();
        if (stub != null) {
            com.kenai.jffi.AgentStub.directory = stub.getParent();
        }
        try {
            MEMORY = MemoryIO.getInstance();
        } finally {
            if (stub != null) {
                com.kenai.jffi.AgentStub.directory = null;
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
        BIND = symbol(libc, "bind");
        EPOLL_CTL = symbol(libc, "epoll_ctl");
        OPEN = symbol(libc, "open");
        READ = symbol(libc, "read");
        READLINK = symbol(libc, "readlink");
        INT1 = context(Type.SINT);
        INT2 = context(Type.SINT, Type.SINT);
        INT3 = context(Type.SINT, Type.SINT, Type.SINT);
        SET_OPT = context(Type.SINT, Type.SINT, Type.SINT, Type.POINTER, Type.UINT);
        GET_OPT = context(Type.SINT, Type.SINT, Type.SINT, Type.POINTER, Type.POINTER);
        ADDRESS = context(Type.SINT, Type.POINTER, Type.POINTER);
        BIND_ADDRESS = context(Type.SINT, Type.POINTER, Type.UINT);
        EPOLL_EVENT = context(Type.SINT, Type.SINT, Type.SINT, Type.POINTER);
        OPEN_PATH = context(Type.POINTER, Type.SINT);
        READ_BUFFER = CallContext.getCallContext(Type.SLONG, new Type[] {Type.SINT, Type.POINTER, Type.ULONG},
                CallingConvention.DEFAULT, true);
        READ_LINK = CallContext.getCallContext(Type.SLONG, new Type[] {Type.POINTER, Type.POINTER, Type.ULONG},
                CallingConvention.DEFAULT, true);
        STRING_OF_INT = CallContext.getCallContext(Type.POINTER, new Type[] {Type.SINT}, CallingConvention.DEFAULT, false);
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
