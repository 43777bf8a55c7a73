package mptcp.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * All interception points of the agent, and nothing else.
 *
 * <p>A {@link Redirect} names one static native method of the JDK's socket layer and the JDK classes that call it;
 * every such call site is rewritten to call an agent handler with the same name and descriptor instead, which gets the
 * JDK's original as {@link Redirect#original}. The handlers decide; the JDK code around the call stays as it is.
 * <ul>
 *   <li>{@link #SOCKET0}: {@code sun.nio.ch.Net.socket0(preferIPv6, stream, reuse, fastLoopback)}, where every
 *       NIO-based TCP socket is made: {@code Socket}/{@code ServerSocket} (NioSocketImpl), {@code SocketChannel},
 *       {@code ServerSocketChannel}, the asynchronous channels. Handler: {@link Interceptor#socket0}.</li>
 * </ul>
 * One more mechanism has no such native: JDK 17's legacy {@code java.net.PlainSocketImpl}
 * ({@code -Djdk.net.usePlainSocketImpl=true}); right after its native {@code socketCreate(stream, isServer)} returns,
 * {@link Interceptor#legacyCreated} swaps the protocol of the fresh socket, and before its native
 * {@code socketSendUrgentData} {@link Options#legacyUrgent} refuses urgent data on an MPTCP socket.
 *
 * <p>Code inside {@code java.base} can only see bootstrap classes, so the rewritten JDK code calls a trampoline class,
 * {@code sun.nio.ch.MptcpAgentHook}, defined at run time inside {@code java.base}'s own package (so the agent jar is
 * never appended to the bootstrap class path, which would downgrade CDS). For each redirect it has a method handle
 * field and a static method of the same name and descriptor; in Java it would read:
 * <pre>
 * package sun.nio.ch;
 * public final class MptcpAgentHook {
 *     public static volatile MethodHandle socket0;  // -> Interceptor.socket0(ZZZZ)I
 *     public static int socket0(boolean a, boolean b, boolean c, boolean d) { return (int) socket0.invokeExact(a, b, c, d); }
 *     ...
 *     public static volatile MethodHandle legacyCreated;  // -> Interceptor.legacyCreated(IZZ)V
 *     public static void legacyCreated(FileDescriptor fd, boolean s, boolean srv) { legacyCreated.invokeExact(IOUtil.fdVal(fd), s, srv); }
 * }
 * </pre>
 */
final class Instrumenter implements ClassFileTransformer {
    static final String HOOK_CLASS = "sun.nio.ch.MptcpAgentHook";
    private static final String HOOK = "sun/nio/ch/MptcpAgentHook";
    private static final String NET = "sun/nio/ch/Net";
    private static final String LEGACY = "java/net/PlainSocketImpl";
    private static final String LEGACY_DESC = "(Ljava/io/FileDescriptor;ZZ)V";
    private static final String LEGACY_BASE = "java/net/AbstractPlainSocketImpl";
    private static final String LEGACY_URGENT_DESC = "(Ljava/io/FileDescriptor;)V";

    /** A static native JDK method whose call sites, in {@code callers}, go to {@code handler.name(desc)} instead. */
    static final class Redirect {
        final String owner;
        final String name;
        final String desc;
        final Class<?> handler;
        final Set<String> callers;
        /** The JDK's own method, for the handler to call. */
        volatile MethodHandle original;

        Redirect(String owner, String name, String desc, Class<?> handler, String... callers) {
            this.owner = owner;
            this.name = name;
            this.desc = desc;
            this.handler = handler;
            this.callers = Set.of(callers);
        }
    }

    private static final String NIO_SOCKET = "sun/nio/ch/NioSocketImpl";
    private static final String CHANNEL = "sun/nio/ch/SocketChannelImpl";
    private static final String SERVER_CHANNEL = "sun/nio/ch/ServerSocketChannelImpl";
    private static final String ASYNC_CHANNEL = "sun/nio/ch/UnixAsynchronousSocketChannelImpl";
    private static final String ASYNC_SERVER_CHANNEL = "sun/nio/ch/UnixAsynchronousServerSocketChannelImpl";
    private static final String FD = "Ljava/io/FileDescriptor;";

    /** Socket creation. */
    static final Redirect SOCKET0 = new Redirect(NET, "socket0", "(ZZZZ)I", Interceptor.class, NET);
    /** Outgoing connections: connected at once (returns 1), or later via pollConnect / the async checkConnect. */
    static final Redirect CONNECT0 = new Redirect(NET, "connect0", "(Z" + FD + "Ljava/net/InetAddress;I)I", Connections.class, NET);
    static final Redirect POLL_CONNECT = new Redirect(NET, "pollConnect", "(" + FD + "J)Z", Connections.class, NET, NIO_SOCKET);
    static final Redirect CHECK_CONNECT = new Redirect(ASYNC_CHANNEL, "checkConnect", "(I)V", Connections.class, ASYNC_CHANNEL);
    /** Accepted connections. */
    static final Redirect ACCEPT = new Redirect(NET, "accept", "(" + FD + FD + "[Ljava/net/InetSocketAddress;)I",
            Connections.class, NIO_SOCKET, SERVER_CHANNEL, ASYNC_SERVER_CHANNEL);
    /** Socket options set through java.net / java.nio (all int-valued options end here), and urgent data. */
    static final Redirect SET_INT_OPTION0 = new Redirect(NET, "setIntOption0", "(" + FD + "ZIIIZ)V", Options.class, NET);
    static final Redirect SEND_OOB = new Redirect(NET, "sendOOB", "(" + FD + "B)I", Options.class, NIO_SOCKET, CHANNEL);
    static final Redirect GET_INT_OPTION0 = new Redirect(NET, "getIntOption0", "(" + FD + "ZII)I", Options.class, NET);
    /** jdk.net's extended options (module jdk.net, platform loader); IP_DONTFRAGMENT's natives exist on JDK 19+ only. */
    private static final String LINUX_OPTIONS = "jdk/net/LinuxSocketOptions";
    static final Redirect SET_QUICK_ACK0 = new Redirect(LINUX_OPTIONS, "setQuickAck0", "(IZ)V", Options.class, LINUX_OPTIONS);
    static final Redirect GET_QUICK_ACK0 = new Redirect(LINUX_OPTIONS, "getQuickAck0", "(I)Z", Options.class, LINUX_OPTIONS);
    static final Redirect SET_IP_DONT_FRAGMENT0 = new Redirect(LINUX_OPTIONS, "setIpDontFragment0", "(IZZ)V", Options.class, LINUX_OPTIONS);
    static final Redirect GET_IP_DONT_FRAGMENT0 = new Redirect(LINUX_OPTIONS, "getIpDontFragment0", "(IZ)Z", Options.class, LINUX_OPTIONS);

    static final List<Redirect> REDIRECTS = List.of(SOCKET0, CONNECT0, POLL_CONNECT, CHECK_CONNECT, ACCEPT,
            SET_INT_OPTION0, SEND_OOB, GET_INT_OPTION0, SET_QUICK_ACK0, GET_QUICK_ACK0, SET_IP_DONT_FRAGMENT0,
            GET_IP_DONT_FRAGMENT0);

    /** Internal names of the classes to rewrite. */
    private static final Set<String> TARGETS = targets();

    private final Set<String> transformed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static Set<String> targets() {
        Set<String> all = new java.util.HashSet<>();
        REDIRECTS.forEach(r -> all.addAll(r.callers));
        all.add(LEGACY);
        all.add(LEGACY_BASE);
        return Set.copyOf(all);
    }

    /** True when the trampoline exists in this JVM, i.e. an mptcp-agent is already installed. */
    static boolean installed() {
        try {
            Class.forName(HOOK_CLASS, false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Installs the redirects. Nothing is rewritten until every handler is wired: a JDK class must never call a
     * trampoline that is not ready. A redirect whose JDK method does not exist in this JDK is left out (logged at
     * DEBUG); socket creation itself is required.
     */
    static void install(Instrumentation inst) throws Exception {
        Module agent = Instrumenter.class.getModule();
        Map<Module, Map<String, Set<Module>>> opens = new java.util.HashMap<>();
        opens.computeIfAbsent(Object.class.getModule(), m -> new java.util.HashMap<>()).put("sun.nio.ch", Set.of(agent));
        Map<Redirect, Class<?>> owners = new java.util.HashMap<>();
        for (Redirect r : REDIRECTS) {
            try {
                Class<?> owner = Class.forName(r.owner.replace('/', '.'), false, ClassLoader.getPlatformClassLoader());
                owners.put(r, owner);
                opens.computeIfAbsent(owner.getModule(), m -> new java.util.HashMap<>()).put(owner.getPackageName(), Set.of(agent));
            } catch (ClassNotFoundException e) {
                Log.debug("not in this JDK: " + r.owner);
            }
        }
        opens.forEach((module, packages) -> inst.redefineModule(module, Set.of(), Map.of(), packages, Set.of(), Map.of()));

        MethodHandles.Lookup own = MethodHandles.lookup();
        Class<?> hook = MethodHandles.privateLookupIn(Class.forName(NET.replace('/', '.'), false, null), own)
                .defineClass(trampoline());
        for (Redirect r : REDIRECTS) {
            MethodType type = MethodType.fromMethodDescriptorString(r.desc, null);
            try {
                Class<?> owner = owners.get(r);
                MethodHandle original = MethodHandles.privateLookupIn(owner, own).findStatic(owner, r.name, type);
                hook.getField(r.name).set(null, own.findStatic(r.handler, r.name, type));
                r.original = original;
            } catch (ReflectiveOperationException | RuntimeException e) {
                if (r == SOCKET0) {
                    throw e;
                }
                Log.debug("left out " + r.owner + "." + r.name + r.desc + ": " + e);
            }
        }
        hook.getField("legacyCreated").set(null, own.findStatic(Interceptor.class, "legacyCreated",
                MethodType.methodType(void.class, int.class, boolean.class, boolean.class)));
        hook.getField("legacyUrgent").set(null, own.findStatic(Options.class, "legacyUrgent",
                MethodType.methodType(void.class, int.class)));

        Instrumenter transformer = new Instrumenter();
        inst.addTransformer(transformer, true);
        // Target classes loaded before the transformer was added (Net always is by now) are rewritten now.
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String name = c.getName().replace('.', '/');
            if (jdkLoader(c.getClassLoader()) && TARGETS.contains(name) && !transformer.transformed.contains(name)) {
                loaded.add(c);
            }
        }
        if (!loaded.isEmpty()) {
            inst.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
        if (!transformer.transformed.contains(NET)) {
            throw new IllegalStateException(NET + " could not be instrumented");
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (!jdkLoader(loader) || name == null || !TARGETS.contains(name)) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, name.equals(LEGACY) || name.equals(LEGACY_BASE) ? ClassWriter.COMPUTE_MAXS : 0);
            reader.accept(new CallSites(writer, name), 0);
            transformed.add(name);
            Log.debug("instrumented " + name.replace('/', '.'));
            return writer.toByteArray();
        } catch (Throwable t) {
            Log.error("could not instrument " + name.replace('/', '.') + ": " + t + "; its sockets stay TCP");
            return null;
        }
    }

    /** The JDK's own loaders: the targets live in java.base (bootstrap) and jdk.net (platform). */
    private static boolean jdkLoader(ClassLoader loader) {
        return loader == null || loader == ClassLoader.getPlatformClassLoader();
    }

    /** Rewrites the call sites of the redirects in class {@code className}, and the legacy socketCreate. */
    private static final class CallSites extends ClassVisitor {
        private final String className;

        CallSites(ClassVisitor next, String className) {
            super(Opcodes.ASM9, next);
            this.className = className;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            boolean legacyCreate = LEGACY.equals(className) && "socketCreate".equals(name) && "(Z)V".equals(desc);
            boolean legacyUrgent = LEGACY_BASE.equals(className) && "sendUrgentData".equals(name) && "(I)V".equals(desc);
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                    for (Redirect r : REDIRECTS) {
                        if (op == Opcodes.INVOKESTATIC && r.original != null && r.owner.equals(owner) && r.name.equals(method)
                                && r.desc.equals(mdesc) && r.callers.contains(className)) {
                            super.visitMethodInsn(op, HOOK, r.name, r.desc, false);
                            return;
                        }
                    }
                    if (legacyUrgent && "socketSendUrgentData".equals(method) && "(I)V".equals(mdesc)) {
                        // MptcpAgentHook.legacyUrgent(this.fd) first: it throws on an MPTCP socket
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitFieldInsn(Opcodes.GETFIELD, LEGACY_BASE, "fd", "Ljava/io/FileDescriptor;");
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOK, "legacyUrgent", LEGACY_URGENT_DESC, false);
                    }
                    super.visitMethodInsn(op, owner, method, mdesc, itf);
                    if (legacyCreate && "socketCreate".equals(method) && "(ZZ)V".equals(mdesc)) {
                        legacyCreated(this);
                    }
                }
            };
        }
    }

    /** After PlainSocketImpl's native socketCreate(stream, isServer): MptcpAgentHook.legacyCreated(fd, stream, isServer). */
    private static void legacyCreated(MethodVisitor mv) {
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETFIELD, LEGACY, "fd", "Ljava/io/FileDescriptor;");
        mv.visitVarInsn(Opcodes.ILOAD, 1);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETFIELD, LEGACY, "isServer", "Z");
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, HOOK, "legacyCreated", LEGACY_DESC, false);
    }

    /** The bytes of sun.nio.ch.MptcpAgentHook, as shown in the class comment. */
    private static byte[] trampoline() {
        String mh = "Ljava/lang/invoke/MethodHandle;";
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, HOOK, null, "java/lang/Object", null);
        for (Redirect r : REDIRECTS) {
            cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, r.name, mh, null, null).visitEnd();
            MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, r.name, r.desc, null, null);
            m.visitCode();
            m.visitFieldInsn(Opcodes.GETSTATIC, HOOK, r.name, mh);
            int slot = 0;
            for (Type arg : Type.getArgumentTypes(r.desc)) {
                m.visitVarInsn(arg.getOpcode(Opcodes.ILOAD), slot);
                slot += arg.getSize();
            }
            m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", r.desc, false);
            m.visitInsn(Type.getReturnType(r.desc).getOpcode(Opcodes.IRETURN));
            m.visitMaxs(0, 0);
            m.visitEnd();
        }
        cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, "legacyCreated", mh, null, null).visitEnd();
        MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "legacyCreated", LEGACY_DESC, null, null);
        m.visitCode();
        m.visitFieldInsn(Opcodes.GETSTATIC, HOOK, "legacyCreated", mh);
        m.visitVarInsn(Opcodes.ALOAD, 0);
        m.visitMethodInsn(Opcodes.INVOKESTATIC, "sun/nio/ch/IOUtil", "fdVal", "(Ljava/io/FileDescriptor;)I", false);
        m.visitVarInsn(Opcodes.ILOAD, 1);
        m.visitVarInsn(Opcodes.ILOAD, 2);
        m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", "(IZZ)V", false);
        m.visitInsn(Opcodes.RETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();
        cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, "legacyUrgent", mh, null, null).visitEnd();
        m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "legacyUrgent", LEGACY_URGENT_DESC, null, null);
        m.visitCode();
        m.visitFieldInsn(Opcodes.GETSTATIC, HOOK, "legacyUrgent", mh);
        m.visitVarInsn(Opcodes.ALOAD, 0);
        m.visitMethodInsn(Opcodes.INVOKESTATIC, "sun/nio/ch/IOUtil", "fdVal", "(Ljava/io/FileDescriptor;)I", false);
        m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", "(I)V", false);
        m.visitInsn(Opcodes.RETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
