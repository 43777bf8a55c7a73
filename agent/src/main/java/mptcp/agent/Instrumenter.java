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

/**
 * The interception points, one per JDK mechanism, and nothing else:
 * <ol>
 *   <li>{@code sun.nio.ch.Net}: every call of its native {@code socket0(preferIPv6, stream, reuse, fastLoopback)} is
 *       redirected to {@link Interceptor#socket0}. All NIO-based sockets pass there: {@code Socket}/{@code ServerSocket}
 *       (NioSocketImpl), {@code SocketChannel}, {@code ServerSocketChannel} and the asynchronous channels.</li>
 *   <li>{@code java.net.PlainSocketImpl} (JDK 17 with {@code -Djdk.net.usePlainSocketImpl=true}): after its native
 *       {@code socketCreate(stream, isServer)} returns, {@link Interceptor#legacyCreated} swaps the protocol of the
 *       fresh socket.</li>
 * </ol>
 * Code inside {@code java.base} can only see bootstrap classes, so the rewritten JDK code calls a tiny trampoline class,
 * {@code sun.nio.ch.MptcpAgentHook}, that is defined at run time inside {@code java.base}'s own package (so the agent jar
 * is never appended to the bootstrap class path, which would downgrade CDS) and holds method handles into the agent:
 * <pre>
 * package sun.nio.ch;
 * public final class MptcpAgentHook {
 *     public static volatile MethodHandle socket;  // Interceptor.socket0(ZZZZ)I
 *     public static volatile MethodHandle legacy;  // Interceptor.legacyCreated(IZZ)V
 *     public static int socket0(boolean a, boolean b, boolean c, boolean d) { return (int) socket.invokeExact(a, b, c, d); }
 *     public static void legacyCreated(FileDescriptor fd, boolean s, boolean srv) { legacy.invokeExact(IOUtil.fdVal(fd), s, srv); }
 * }
 * </pre>
 */
final class Instrumenter implements ClassFileTransformer {
    static final String HOOK_CLASS = "sun.nio.ch.MptcpAgentHook";
    private static final String HOOK = "sun/nio/ch/MptcpAgentHook";
    private static final String NET = "sun/nio/ch/Net";
    private static final String LEGACY = "java/net/PlainSocketImpl";
    private static final String SOCKET0_DESC = "(ZZZZ)I";
    private static final String LEGACY_DESC = "(Ljava/io/FileDescriptor;ZZ)V";

    private final Set<String> transformed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** True when the trampoline exists in this JVM, i.e. an mptcp-agent is already installed. */
    static boolean installed() {
        try {
            Class.forName(HOOK_CLASS, false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static void install(Instrumentation inst) throws Exception {
        Module javaBase = Object.class.getModule();
        inst.redefineModule(javaBase, Set.of(), Map.of(),
                Map.of("sun.nio.ch", Set.of(Instrumenter.class.getModule())), Set.of(), Map.of());

        Instrumenter transformer = new Instrumenter();
        inst.addTransformer(transformer, true);
        List<Class<?>> targets = new ArrayList<>();
        Class<?> net = Class.forName(NET.replace('/', '.'), false, null);
        targets.add(net);
        try {
            targets.add(Class.forName(LEGACY.replace('/', '.'), false, null));
        } catch (ClassNotFoundException e) {
            // JDK 18+: no legacy socket implementation
        }

        MethodHandles.Lookup inNet = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
        Interceptor.original = inNet.findStatic(net, "socket0",
                MethodType.methodType(int.class, boolean.class, boolean.class, boolean.class, boolean.class));
        Class<?> hook = inNet.defineClass(trampoline());
        MethodHandles.Lookup own = MethodHandles.lookup();
        hook.getField("socket").set(null, own.findStatic(Interceptor.class, "socket0", MethodType.methodType(int.class,
                boolean.class, boolean.class, boolean.class, boolean.class)));
        hook.getField("legacy").set(null, own.findStatic(Interceptor.class, "legacyCreated", MethodType.methodType(void.class,
                int.class, boolean.class, boolean.class)));

        // Classes that were loaded before the transformer was added (always so when attaching) are rewritten now.
        targets.removeIf(c -> transformer.transformed.contains(c.getName().replace('.', '/')));
        if (!targets.isEmpty()) {
            inst.retransformClasses(targets.toArray(new Class<?>[0]));
        }
        for (String name : new String[] {NET}) {
            if (!transformer.transformed.contains(name)) {
                throw new IllegalStateException(name + " could not be instrumented");
            }
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (loader != null || name == null || !(NET.equals(name) || LEGACY.equals(name))) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            reader.accept(NET.equals(name) ? new NetVisitor(writer) : new LegacyVisitor(writer), 0);
            transformed.add(name);
            Log.debug("instrumented " + name.replace('/', '.'));
            return writer.toByteArray();
        } catch (Throwable t) {
            Log.error("could not instrument " + name.replace('/', '.') + ": " + t + "; its sockets stay TCP");
            return null;
        }
    }

    /** In sun.nio.ch.Net: {@code socket0(...)} becomes {@code MptcpAgentHook.socket0(...)}, same arguments. */
    private static final class NetVisitor extends ClassVisitor {
        NetVisitor(ClassVisitor next) {
            super(Opcodes.ASM9, next);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, signature, exceptions)) {
                @Override
                public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                    if (op == Opcodes.INVOKESTATIC && NET.equals(owner) && "socket0".equals(method) && SOCKET0_DESC.equals(mdesc)) {
                        super.visitMethodInsn(op, HOOK, "socket0", SOCKET0_DESC, false);
                    } else {
                        super.visitMethodInsn(op, owner, method, mdesc, itf);
                    }
                }
            };
        }
    }

    /** In java.net.PlainSocketImpl.socketCreate(boolean): after the native socketCreate(stream, isServer). */
    private static final class LegacyVisitor extends ClassVisitor {
        LegacyVisitor(ClassVisitor next) {
            super(Opcodes.ASM9, next);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            if (!"socketCreate".equals(name) || !"(Z)V".equals(desc)) {
                return mv;
            }
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                    super.visitMethodInsn(op, owner, method, mdesc, itf);
                    if ("socketCreate".equals(method) && "(ZZ)V".equals(mdesc)) {
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitFieldInsn(Opcodes.GETFIELD, LEGACY, "fd", "Ljava/io/FileDescriptor;");
                        super.visitVarInsn(Opcodes.ILOAD, 1);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitFieldInsn(Opcodes.GETFIELD, LEGACY, "isServer", "Z");
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOK, "legacyCreated", LEGACY_DESC, false);
                    }
                }
            };
        }
    }

    /** The bytes of sun.nio.ch.MptcpAgentHook, as shown in the class comment. */
    private static byte[] trampoline() {
        String mh = "java/lang/invoke/MethodHandle";
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, HOOK, null, "java/lang/Object", null);
        cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, "socket", "L" + mh + ";", null, null).visitEnd();
        cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, "legacy", "L" + mh + ";", null, null).visitEnd();

        MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "socket0", SOCKET0_DESC, null, null);
        m.visitCode();
        m.visitFieldInsn(Opcodes.GETSTATIC, HOOK, "socket", "L" + mh + ";");
        for (int i = 0; i < 4; i++) {
            m.visitVarInsn(Opcodes.ILOAD, i);
        }
        m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, mh, "invokeExact", SOCKET0_DESC, false);
        m.visitInsn(Opcodes.IRETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();

        m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "legacyCreated", LEGACY_DESC, null, null);
        m.visitCode();
        m.visitFieldInsn(Opcodes.GETSTATIC, HOOK, "legacy", "L" + mh + ";");
        m.visitVarInsn(Opcodes.ALOAD, 0);
        m.visitMethodInsn(Opcodes.INVOKESTATIC, "sun/nio/ch/IOUtil", "fdVal", "(Ljava/io/FileDescriptor;)I", false);
        m.visitVarInsn(Opcodes.ILOAD, 1);
        m.visitVarInsn(Opcodes.ILOAD, 2);
        m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, mh, "invokeExact", "(IZZ)V", false);
        m.visitInsn(Opcodes.RETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
