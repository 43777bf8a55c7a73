package mptcp.agent.netty;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * The hook class that the rewritten code of Netty calls: Netty's class loader cannot see the agent's classes (they
 * live in the isolated agent loader), so a small class is defined <em>in Netty's own package and loader</em>,
 * {@code <prefix>io.netty.channel.unix.MptcpAgentHook} (and {@code <prefix>io.netty.bootstrap.MptcpAgentHook} for
 * {@link BootstrapRewrite}: netty-transport does not depend on the unix jar), whose private static method handles
 * lead to {@link NettySockets}. In Java it would read:
 * <pre>
 * public final class MptcpAgentHook {
 *     private static MethodHandle socket, connected, accepted, ...;   // set once by the agent through init
 *     public static int socket(boolean ipv6) { return socket == null ? -1 : (int) socket.invokeExact(ipv6); } // fd or -1
 *     public static void connected(boolean ok, int fd) { if (connected != null) connected.invokeExact(ok, fd); }
 *     ...one such method per row of METHODS
 *     private static void init(MethodHandle[] handles) { ... }
 * }
 * </pre>
 * It is defined from within the transformer with {@code ClassLoader.defineClass} (java.lang opened to the agent's
 * module alone): with {@code -javaagent} the rewrite happens while a class of that package is being defined, when no
 * class of the package may exist yet for {@code MethodHandles.privateLookupIn(...).defineClass}, and one mechanism
 * then serves both cases. Until wired (another thread may still be defining it) each method answers "Netty's own
 * code" (-1, 0, nothing).
 */
final class HookClass {
    static final String NAME = "MptcpAgentHook";
    private static final String MH = "Ljava/lang/invoke/MethodHandle;";
    static final String CONNECTING = "(ILjava/lang/Object;Ljava/lang/Object;I)V";
    static final String BINDING = "(ILjava/lang/Object;Ljava/lang/Object;)V";

    /**
     * The hook's methods, in init order: name, descriptor, what it answers before it is wired (-1, 0 or void), and
     * "copy" when the handler in {@link NettySockets} takes its copy of Netty ({@link NettySockets.Copy}) first.
     */
    static final String[][] METHODS = {
        {"socket", "(Z)I", "-1", "copy"}, {"connected", "(ZI)V", "", ""}, {"accepted", "(II)V", "", ""},
        {"setFailed", "(IIII)Z", "0", ""}, {"getFailed", "(III)I", "-1", ""}, {"remembered", "(III)I", "-1", ""},
        {"connecting", CONNECTING, "", "copy"}, {"binding", BINDING, "", "copy"}, {"epollCtl", "(IIII)V", "", "copy"},
        {"role", "(I)V", "", ""}, {"connectingTo", "(Ljava/lang/Object;)V", "", ""}, {"tcpOnly", "(I)V", "", ""},
        {"own", "(I)V", "", ""}, {"finishing", "(I)I", "0", ""}, {"closing", "(ZI)V", "", ""},
    };

    private final Instrumentation inst;
    private Method defineClass;
    /** The handlers of {@link #METHODS}; looked up when the first copy of Netty is met, not at install. */
    private MethodHandle[] handlers;

    HookClass(Instrumentation inst) {
        this.inst = inst;
    }

    private static boolean takesCopy(int i) {
        return !METHODS[i][3].isEmpty();
    }

    private synchronized MethodHandle[] handlers() throws ReflectiveOperationException {
        if (handlers == null) {
            MethodHandles.Lookup own = MethodHandles.lookup();
            MethodHandle[] h = new MethodHandle[METHODS.length];
            for (int i = 0; i < METHODS.length; i++) {
                MethodType type = MethodType.fromMethodDescriptorString(METHODS[i][1], null);
                h[i] = own.findStatic(NettySockets.class, METHODS[i][0],
                        takesCopy(i) ? type.insertParameterTypes(0, NettySockets.Copy.class) : type);
            }
            handlers = h;
        }
        return handlers;
    }

    /**
     * {@code ClassLoader.defineClass(String, byte[], int, int, ProtectionDomain)}, made accessible at the first copy of
     * Netty met (java.lang is opened to the agent at install): a JVM without Netty never builds ClassLoader's
     * reflection data.
     */
    private synchronized Method defineClass() throws ReflectiveOperationException {
        Method define = defineClass;
        if (define == null) {
            define = ClassLoader.class.getDeclaredMethod("defineClass", String.class, byte[].class, int.class,
                    int.class, ProtectionDomain.class);
            define.setAccessible(true);
            defineClass = define;
        }
        return define;
    }

    /**
     * Defines the hook class {@code hook} (internal name) in {@code loader} and wires it to the agent; nothing when it
     * is there already (the first rewritten class of its package that needed it defined it).
     */
    void define(ClassLoader loader, String hook, ProtectionDomain domain) throws Throwable {
        String binary = hook.replace('/', '.');
        Class<?> c;
        try {
            byte[] b = bytes(hook);
            c = (Class<?>) defineClass().invoke(loader, binary, b, 0, b.length, domain);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (!(e.getCause() instanceof LinkageError)) {
                throw e.getCause();
            }
            return; // already defined (and wired) by an earlier class of this copy, or an earlier retransformation
        }
        Module netty = c.getModule();
        Module self = HookClass.class.getModule();
        if (!netty.isOpen(c.getPackageName(), self)) {
            // Netty on the module path (its jars are explicit modules): open the hook's package to the agent alone
            inst.redefineModule(netty, Set.of(), Map.of(), Map.of(c.getPackageName(), Set.of(self)), Set.of(), Map.of());
        }
        Method init = c.getDeclaredMethod("init", MethodHandle[].class);
        init.setAccessible(true);
        MethodHandle[] handlers = handlers();
        MethodHandle[] wired = handlers.clone();
        NettySockets.Copy copy = new NettySockets.Copy(c);
        for (int i = 0; i < wired.length; i++) {
            if (takesCopy(i)) {
                wired[i] = MethodHandles.insertArguments(handlers[i], 0, copy); // the handler knows its copy of Netty
            }
        }
        init.invoke(null, (Object) wired);
    }

    /** The bytes of the hook class shown in the class comment. */
    static byte[] bytes(String hook) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, hook, null, "java/lang/Object", null);
        for (String[] m : METHODS) {
            cw.visitField(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC, m[0], MH, null, null).visitEnd();
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, m[0], m[1], null, null);
            mv.visitCode();
            mv.visitFieldInsn(Opcodes.GETSTATIC, hook, m[0], MH);
            // not wired yet (another thread is still defining this hook): Netty's own code, nothing counted
            Label ready = new Label();
            mv.visitInsn(Opcodes.DUP);
            mv.visitJumpInsn(Opcodes.IFNONNULL, ready);
            mv.visitInsn(Opcodes.POP);
            if (m[2].isEmpty()) {
                mv.visitInsn(Opcodes.RETURN);
            } else {
                mv.visitInsn(m[2].equals("-1") ? Opcodes.ICONST_M1 : Opcodes.ICONST_0);
                mv.visitInsn(Opcodes.IRETURN);
            }
            mv.visitLabel(ready);
            Type[] args = Type.getArgumentTypes(m[1]); // int, boolean or Object: one slot each
            Object[] locals = new Object[args.length];
            for (int slot = 0; slot < args.length; slot++) {
                locals[slot] = Asm.frameType(args[slot]);
            }
            mv.visitFrame(Opcodes.F_NEW, args.length, locals, 1, new Object[] {"java/lang/invoke/MethodHandle"});
            for (int slot = 0; slot < args.length; slot++) {
                mv.visitVarInsn(args[slot].getSort() == Type.OBJECT ? Opcodes.ALOAD : Opcodes.ILOAD, slot);
            }
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", m[1], false);
            mv.visitInsn(m[2].isEmpty() ? Opcodes.RETURN : Opcodes.IRETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC, "init", "([" + MH + ")V", null, null);
        init.visitCode();
        for (int i = 0; i < METHODS.length; i++) {
            init.visitVarInsn(Opcodes.ALOAD, 0);
            init.visitIntInsn(Opcodes.BIPUSH, i);
            init.visitInsn(Opcodes.AALOAD);
            init.visitFieldInsn(Opcodes.PUTSTATIC, hook, METHODS[i][0], MH);
        }
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
