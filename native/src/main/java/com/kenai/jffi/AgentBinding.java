package com.kenai.jffi;

/**
 * The agent's own thin path to jffi's native stub: the few natives of {@link Foreign} the socket primitives need
 * (mptcp.sys.Jffi), called directly, without jffi's Java layer around them (Invoker, MemoryIO, Platform, Library,
 * CallContext, Type, Cleaner: some 45 classes, large ones to verify, a regular expression and reflection, about
 * 20-30 ms at start-up on a 2-core machine). Same stub, same natives, same checks: the stub is loaded and its version
 * checked by {@link Foreign#getInstance} (through the agent's {@link Init}), memory goes through the checked
 * natives (a null address throws instead of crashing), errno is saved by the call contexts as jffi's own do.
 * jnr-ffi, where the agent still uses it (attach-time hand-over), keeps going through jffi's full Java layer.
 *
 * <p>It lives in jffi's package to reach {@code Foreign}'s package-private natives: the agent's jffi version is
 * pinned (pom.xml), and a stub of another version is refused by {@code Foreign.getInstance}.
 */
public final class AgentBinding {
    /**
     * Where the agent put jffi's native stub (mptcp.sys.StubFile), for {@link Init} to load it from: handed over in
     * this field rather than through the system property {@code jffi.boot.library.path}, which the application
     * could see change while it starts. Null: jffi's own ways (a user-set jffi.boot.library.path first).
     */
    public static volatile String stubDirectory;
    /**
     * When loading the stub from {@link #stubDirectory} fails: another directory holding a fresh copy, made on demand
     * (the agent keeps its stub in a private directory that might sit on a noexec mount); null: none.
     */
    public static volatile java.util.function.Supplier<String> stubFallback;
    /**
     * Why the agent has no stub to offer although its platform has one (no directory it can trust): {@link Init}
     * then loads none (jffi's own extraction would write and load it by path in {@code java.io.tmpdir}); null: the
     * agent has nothing against jffi's own ways.
     */
    public static volatile String stubRefused;
    /**
     * Set by {@link Init} when it loaded the stub from {@link #stubDirectory} (or the fallback): the file it gave
     * {@code System.load}; null when this JVM's jffi had been loaded before (the agent's check of the mapping then has
     * nothing of its own to check).
     */
    public static volatile String stubLoaded;

    /** ffi types, as Foreign numbers them. */
    public static final int SINT32 = Foreign.TYPE_SINT32;
    public static final int UINT32 = Foreign.TYPE_UINT32;
    public static final int SLONG = Foreign.TYPE_SLONG;
    public static final int ULONG = Foreign.TYPE_ULONG;
    public static final int POINTER = Foreign.TYPE_POINTER;
    /** dlopen flags. */
    public static final int RTLD_LAZY = Foreign.RTLD_LAZY;
    public static final int RTLD_GLOBAL = Foreign.RTLD_GLOBAL;

    private AgentBinding() {
    }

    /** Loads the stub (once) and checks its version; throws UnsatisfiedLinkError when it cannot be used. */
    public static void load() {
        Foreign.getInstance();
    }

    /** dlopen(3); 0 on failure (then {@link #dlerror}). */
    public static long dlopen(String name, int flags) {
        return Foreign.dlopen(name, flags);
    }

    /** dlsym(3); 0 when absent. */
    public static long dlsym(long handle, String name) {
        return Foreign.dlsym(handle, name);
    }

    public static String dlerror() {
        return Foreign.dlerror();
    }

    /**
     * A call context (libffi's cif) for a C function of the default ABI returning {@code returnType} and taking
     * {@code parameterTypes} (ffi types above), saving errno after each call when {@code saveErrno}. Never freed: the
     * agent makes one per C signature for the life of the JVM.
     */
    public static long callContext(int returnType, int[] parameterTypes, boolean saveErrno) {
        Foreign foreign = Foreign.getInstance();
        long[] parameters = new long[parameterTypes.length];
        for (int i = 0; i < parameters.length; i++) {
            parameters[i] = builtinType(foreign, parameterTypes[i]);
        }
        int flags = (saveErrno ? 0 : Foreign.F_NOERRNO) | Foreign.F_DEFAULT | parameterTypes.length << 16;
        long context = foreign.newCallContext(builtinType(foreign, returnType), parameters, flags);
        if (context == 0) {
            throw new UnsatisfiedLinkError("jffi could not make a call context");
        }
        return context;
    }

    private static long builtinType(Foreign foreign, int type) {
        long handle = foreign.lookupBuiltinType(type);
        if (handle == 0) {
            throw new UnsatisfiedLinkError("jffi has no ffi type " + type);
        }
        return handle;
    }

    /** errno saved by the last call of this thread through a context that saves it. */
    public static int lastError() {
        return Foreign.getLastError();
    }

    public static int invokeI1(long context, long function, int a1) {
        return Foreign.invokeI1(context, function, a1);
    }

    public static int invokeI2(long context, long function, int a1, int a2) {
        return Foreign.invokeI2(context, function, a1, a2);
    }

    public static int invokeI3(long context, long function, int a1, int a2, int a3) {
        return Foreign.invokeI3(context, function, a1, a2, a3);
    }

    public static long invokeN1(long context, long function, long a1) {
        return Foreign.invokeN1(context, function, a1);
    }

    public static long invokeN2(long context, long function, long a1, long a2) {
        return Foreign.invokeN2(context, function, a1, a2);
    }

    public static long invokeN3(long context, long function, long a1, long a2, long a3) {
        return Foreign.invokeN3(context, function, a1, a2, a3);
    }

    public static long invokeN4(long context, long function, long a1, long a2, long a3, long a4) {
        return Foreign.invokeN4(context, function, a1, a2, a3, a4);
    }

    public static long invokeN5(long context, long function, long a1, long a2, long a3, long a4, long a5) {
        return Foreign.invokeN5(context, function, a1, a2, a3, a4, a5);
    }

    /** malloc (calloc when {@code clear}); 0 when memory is exhausted. */
    public static long allocate(long size, boolean clear) {
        return Foreign.allocateMemory(size, clear);
    }

    public static void free(long address) {
        Foreign.freeMemory(address);
    }

    public static void putByte(long address, byte value) {
        Foreign.putByteChecked(address, value);
    }

    public static int getInt(long address) {
        return Foreign.getIntChecked(address);
    }

    public static void putInt(long address, int value) {
        Foreign.putIntChecked(address, value);
    }

    public static void putLong(long address, long value) {
        Foreign.putLongChecked(address, value);
    }

    public static void putBytes(long address, byte[] data, int offset, int length) {
        Foreign.putByteArrayChecked(address, data, offset, length);
    }

    public static void getBytes(long address, byte[] data, int offset, int length) {
        Foreign.getByteArrayChecked(address, data, offset, length);
    }

    /**
     * {@link #putBytes} and {@link #getBytes} without jffi's fault check (which costs microseconds per call: about
     * 3 µs for 1.5 KB here, against 0.1 µs), for native memory the caller allocated itself and knows the size of.
     */
    public static void putBytesUnchecked(long address, byte[] data, int offset, int length) {
        Foreign.putByteArray(address, data, offset, length);
    }

    public static void getBytesUnchecked(long address, byte[] data, int offset, int length) {
        Foreign.getByteArray(address, data, offset, length);
    }

    /**
     * The native address of a direct buffer (ByteBuffer.allocateDirect): valid while the buffer is reachable, which
     * the caller ensures by keeping it.
     */
    public static long address(java.nio.ByteBuffer direct) {
        return Foreign.getInstance().getDirectBufferAddress(direct);
    }

    /** The bytes of the C string at {@code address}, without its terminating 0. */
    public static byte[] getCString(long address) {
        return Foreign.getZeroTerminatedByteArrayChecked(address);
    }
}
