package mptcp.agent.netty;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import mptcp.agent.config.Config;
import mptcp.agent.engine.InterceptionModule;
import mptcp.agent.log.Log;
import mptcp.agent.policy.Policy;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Netty's native transports (epoll, io_uring, the io_uring incubator; kqueue is never on Linux) make their sockets in
 * C, but every stream socket passes through one plain Java method: {@code io.netty.channel.unix.Socket.newSocketStream0
 * (boolean ipv6)}. This transformer rewrites the <em>body</em> of that method, in every class whose internal name ends
 * with {@code io/netty/channel/unix/Socket} (any class loader, any shading prefix such as gRPC's
 * {@code io/grpc/netty/shaded/}), so that it first asks the agent for an MPTCP socket and runs Netty's own code when the
 * answer is -1. Body-only changes: the same rewrite works when Netty is loaded later and, after an {@code attach},
 * on the already loaded class through {@code retransformClasses}. The native {@code newSocketStreamFd} (bound by
 * {@code RegisterNatives}) is never touched.
 *
 * <p>It also reports Netty's connections to the agent's connection counters: the results of {@code connect},
 * {@code finishConnect} and {@code accept} of that class (Java wrappers of natives: epoll's connects and accepts;
 * io_uring's connects and accepts go through its ring: see {@link UringAccept}).
 *
 * <p>Netty's class loader cannot see the agent's classes (they live in the isolated agent loader), so the rewritten code
 * calls a small hook class defined <em>in Netty's own package and loader</em>, {@code <prefix>io.netty.channel.unix
 * .MptcpAgentHook}, whose private static method handles lead to {@link NettySockets}. In Java it would read:
 * <pre>
 * public final class MptcpAgentHook {
 *     private static MethodHandle socket, connected, accepted, ...;   // set once by the agent through init
 *     public static int socket(boolean ipv6) { return socket == null ? -1 : (int) socket.invokeExact(ipv6); } // fd or -1
 *     public static void connected(boolean ok, int fd) { if (connected != null) connected.invokeExact(ok, fd); }
 *     public static void accepted(int fd, int listener) { if (accepted != null) accepted.invokeExact(fd, listener); }
 *     // and setFailed(fd, level, option, value), getFailed(fd, level, option), remembered(fd, level, option): OptionGuards
 *     private static void init(MethodHandle[] handles) { ... }
 * }
 * </pre>
 * The hook is defined from within the transformer with {@code ClassLoader.defineClass} (java.lang opened to the agent's
 * module alone): with {@code -javaagent} the rewrite happens while Netty's {@code Socket} is being defined, when no
 * class of that package may exist yet for {@code MethodHandles.privateLookupIn(...).defineClass}, and one mechanism then
 * serves both cases.
 */
public final class NettyModule implements InterceptionModule, ClassFileTransformer {
    private static final String SUFFIX = "io/netty/channel/unix/Socket";
    private static final String HOOK_NAME = "MptcpAgentHook";
    /** Netty 4.2's io_uring server channel, whose accepts do not pass through {@code Socket.accept}. */
    private static final String URING_SERVER = "io/netty/channel/uring/IoUringServerSocketChannel";
    /** Netty 4.2's io_uring channel and its unsafe, where a connect completed through the ring is fulfilled. */
    private static final String URING_CHANNEL = "io/netty/channel/uring/AbstractIoUringChannel";
    private static final String URING_UNSAFE = URING_CHANNEL + "$AbstractUringUnsafe";
    private static final String MH = "Ljava/lang/invoke/MethodHandle;";
    /** The epoll and io_uring sockets, whose option wrappers get {@link OptionGuards}. */
    private static final String EPOLL_SOCKET = "io/netty/channel/epoll/LinuxSocket";
    private static final String URING_SOCKET = "io/netty/channel/uring/LinuxSocket";

    private Method defineClass;
    private Instrumentation inst;
    /**
     * The handlers of {@link #HOOK_METHODS} in {@link NettySockets}; the first one takes the hook class first. Looked
     * up when the first copy of Netty is met, not at install: a JVM without Netty makes none of them.
     */
    private MethodHandle[] handlers;

    private synchronized MethodHandle[] handlers() throws ReflectiveOperationException {
        if (handlers == null) {
            MethodHandles.Lookup own = MethodHandles.lookup();
            MethodHandle[] h = new MethodHandle[HOOK_METHODS.length];
            for (int i = 0; i < HOOK_METHODS.length; i++) {
                MethodType type = MethodType.fromMethodDescriptorString(HOOK_METHODS[i][1], null);
                h[i] = own.findStatic(NettySockets.class, HOOK_METHODS[i][0],
                        i == 0 ? type.insertParameterTypes(0, Class.class) : type);
            }
            handlers = h;
        }
        return handlers;
    }

    @Override
    public String name() {
        return "netty";
    }

    /**
     * Adds the transformer and rewrites the copies of Netty already loaded (attach); the handlers are wired when the
     * first copy of Netty is met. Throws, with nothing installed, when {@code ClassLoader.defineClass} cannot be
     * reached.
     */
    @Override
    public void install(Instrumentation inst) throws Exception {
        inst.redefineModule(Object.class.getModule(), Set.of(), Map.of(),
                Map.of("java.lang", Set.of(NettyModule.class.getModule())), Set.of(), Map.of());
        Method define = ClassLoader.class.getDeclaredMethod("defineClass", String.class, byte[].class, int.class,
                int.class, ProtectionDomain.class);
        define.setAccessible(true);
        defineClass = define;
        this.inst = inst;
        inst.addTransformer(this, true);
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String n = c.getName();
            if ((n.endsWith("io.netty.channel.unix.Socket") || n.endsWith("io.netty.channel.uring.IoUringServerSocketChannel")
                    || n.endsWith("io.netty.channel.uring.AbstractIoUringChannel$AbstractUringUnsafe")
                    || n.endsWith("io.netty.channel.epoll.LinuxSocket") || n.endsWith("io.netty.channel.uring.LinuxSocket"))
                    && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
            } catch (Throwable t) {
                Log.warn("could not instrument the loaded " + c.getName() + " (" + t + "); its sockets stay TCP");
            }
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (name == null || !(name.endsWith("Socket") || name.endsWith("Channel") || name.endsWith("Unsafe"))) {
            return null; // the one check every other class of the JVM pays
        }
        String suffix = isNetty(name, SUFFIX) ? SUFFIX : isNetty(name, URING_SERVER) ? URING_SERVER
                : isNetty(name, URING_UNSAFE) ? URING_UNSAFE : isNetty(name, EPOLL_SOCKET) ? EPOLL_SOCKET
                : isNetty(name, URING_SOCKET) ? URING_SOCKET : null;
        if (suffix == null) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            boolean applies = suffix == SUFFIX ? has(reader, "newSocketStream0", "(Z)I", true)
                    : suffix == URING_SERVER ? has(reader, "newChildChannel", null, false)
                    : suffix == URING_UNSAFE ? has(reader, "fulfillConnectPromise", null, false)
                    : has(reader, "setTcpQuickAck", "(Z)V", false);
            if (!applies) {
                return null;
            }
            if (loader == null) {
                Log.warn(name.replace('/', '.') + " is on the boot class path; its sockets stay TCP");
                return null;
            }
            String prefix = name.substring(0, name.length() - suffix.length());
            String hook = prefix + "io/netty/channel/unix/" + HOOK_NAME;
            hook(loader, hook, domain); // the first class of this copy of Netty that needs it defines it
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            boolean compat = Policy.config().options == Config.OptionPolicy.COMPAT;
            ClassVisitor chain = suffix == SUFFIX
                    ? new Rewrite(compat ? new OptionGuards(writer, name, hook, OptionGuards.UNIX_SOCKET) : writer, name, hook)
                    : suffix == URING_SERVER || suffix == URING_UNSAFE ? new UringAccept(writer, prefix, hook, suffix)
                    : compat ? new OptionGuards(writer, name, hook, OptionGuards.LINUX_SOCKET) : null;
            if (chain == null) {
                return null;
            }
            reader.accept(chain, ClassReader.EXPAND_FRAMES);
            Log.debug("instrumented " + name.replace('/', '.') + (redefined != null ? " (already loaded)" : ""));
            return writer.toByteArray();
        } catch (Throwable t) {
            Log.warn("could not instrument " + name.replace('/', '.') + " (" + t + "); its sockets stay TCP");
            return null;
        }
    }

    /** {@code name} is {@code suffix} itself or ends with "/" + {@code suffix} (a shading prefix). */
    private static boolean isNetty(String name, String suffix) {
        return name.endsWith(suffix) && (name.length() == suffix.length()
                || name.charAt(name.length() - suffix.length() - 1) == '/');
    }

    /**
     * io_uring accepts and connects through its ring. An accepted fd reaches Java in {@code IoUringServerSocketChannel
     * .newChildChannel(int fd, ByteBuffer address)}, whose first instructions become
     * {@code MptcpAgentHook.accepted(fd, fd().intValue())}; a completed connect is fulfilled in
     * {@code AbstractIoUringChannel.AbstractUringUnsafe.fulfillConnectPromise(ChannelPromise, boolean)}, whose first
     * instructions become {@code MptcpAgentHook.connected(true, this$0.fd().intValue())}.
     */
    private static final class UringAccept extends ClassVisitor {
        private final String prefix;
        private final String hook;
        private final boolean accept;

        UringAccept(ClassVisitor next, String prefix, String hook, String suffix) {
            super(Opcodes.ASM9, next);
            this.prefix = prefix;
            this.hook = hook;
            this.accept = suffix.equals(URING_SERVER);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            String fd = prefix + "io/netty/channel/unix/FileDescriptor";
            String channel = prefix + URING_CHANNEL;
            boolean target = accept ? "newChildChannel".equals(name) && desc.startsWith("(I")
                    : "fulfillConnectPromise".equals(name) && desc.equals("(L" + prefix + "io/netty/channel/ChannelPromise;Z)V");
            if (!target || (access & Opcodes.ACC_STATIC) != 0) {
                return mv;
            }
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitCode() {
                    super.visitCode();
                    if (accept) {
                        super.visitVarInsn(Opcodes.ILOAD, 1);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, prefix + URING_SERVER, "fd", "()L" + fd + ";", false);
                    } else {
                        super.visitInsn(Opcodes.ICONST_1);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitFieldInsn(Opcodes.GETFIELD, prefix + URING_UNSAFE, "this$0", "L" + channel + ";");
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, channel, "fd", "()L" + fd + ";", false);
                    }
                    super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, fd, "intValue", "()I", false);
                    if (accept) {
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "accepted", "(II)V", false);
                    } else {
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connected", "(ZI)V", false);
                    }
                }
            };
        }
    }

    /** Whether the class has the method (a static, non-native one when {@code statik}); {@code desc} null: any. */
    private static boolean has(ClassReader reader, String method, String desc, boolean statik) {
        boolean[] found = {false};
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String d, String signature, String[] exceptions) {
                if (method.equals(name) && (desc == null || desc.equals(d)) && (access & Opcodes.ACC_NATIVE) == 0
                        && ((access & Opcodes.ACC_STATIC) != 0) == statik) {
                    found[0] = true;
                }
                return null;
            }
        }, ClassReader.SKIP_CODE);
        return found[0];
    }

    /** Defines the hook class in {@code loader} (or finds the one defined before) and wires it to the agent. */
    private void hook(ClassLoader loader, String hook, ProtectionDomain domain) throws Throwable {
        String binary = hook.replace('/', '.');
        Class<?> c;
        try {
            byte[] b = hookBytes(hook);
            c = (Class<?>) defineClass.invoke(loader, binary, b, 0, b.length, domain);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (!(e.getCause() instanceof LinkageError)) {
                throw e.getCause();
            }
            c = Class.forName(binary, false, loader); // a second retransformation: already there, already wired
            return;
        }
        Module netty = c.getModule();
        Module self = NettyModule.class.getModule();
        if (!netty.isOpen(c.getPackageName(), self)) {
            // Netty on the module path (its jars are explicit modules): open the hook's package to the agent alone
            inst.redefineModule(netty, Set.of(), Map.of(), Map.of(c.getPackageName(), Set.of(self)), Set.of(), Map.of());
        }
        Method init = c.getDeclaredMethod("init", MethodHandle[].class);
        init.setAccessible(true);
        MethodHandle[] wired = handlers().clone();
        wired[0] = MethodHandles.insertArguments(wired[0], 0, c); // socket(ipv6) knows its copy of Netty
        init.invoke(null, (Object) wired);
    }

    /** Rewrites newSocketStream0(Z)I, and reports connect/finishConnect/accept results to the hook. */
    private static final class Rewrite extends ClassVisitor {
        private final String owner;
        private final String hook;

        Rewrite(ClassVisitor next, String owner, String hook) {
            super(Opcodes.ASM9, next);
            this.owner = owner;
            this.hook = hook;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            boolean statik = (access & Opcodes.ACC_STATIC) != 0;
            if (statik && "newSocketStream0".equals(name) && "(Z)I".equals(desc)) {
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        // int fd = MptcpAgentHook.socket(ipv6); if (fd >= 0) return fd; ...Netty's own body
                        Label own = new Label();
                        super.visitVarInsn(Opcodes.ILOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "socket", "(Z)I", false);
                        super.visitInsn(Opcodes.DUP);
                        super.visitJumpInsn(Opcodes.IFLT, own);
                        super.visitInsn(Opcodes.IRETURN);
                        super.visitLabel(own);
                        super.visitFrame(Opcodes.F_NEW, 1, new Object[] {Opcodes.INTEGER}, 1, new Object[] {Opcodes.INTEGER});
                        super.visitInsn(Opcodes.POP);
                    }
                };
            }
            boolean connect = !statik && ("connect".equals(name) && "(Ljava/net/SocketAddress;)Z".equals(desc)
                    || "finishConnect".equals(name) && "()Z".equals(desc));
            boolean accept = !statik && "accept".equals(name) && "([B)I".equals(desc);
            if (!connect && !accept) {
                return mv;
            }
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitInsn(int opcode) {
                    if (opcode == Opcodes.IRETURN) {
                        // MptcpAgentHook.connected(result, intValue()) / accepted(result, intValue()), then return
                        super.visitInsn(Opcodes.DUP);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, owner, "intValue", "()I", false);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, connect ? "connected" : "accepted",
                                connect ? "(ZI)V" : "(II)V", false);
                    }
                    super.visitInsn(opcode);
                }
            };
        }
    }

    /** The bytes of the hook class shown in the class comment. */
    /** The hook's methods, in init order: name, descriptor, what it answers before it is wired (-1, 0 or void). */
    static final String[][] HOOK_METHODS = {
        {"socket", "(Z)I", "-1"}, {"connected", "(ZI)V", ""}, {"accepted", "(II)V", ""},
        {"setFailed", "(IIII)Z", "0"}, {"getFailed", "(III)I", "-1"}, {"remembered", "(III)I", "-1"},
    };

    static byte[] hookBytes(String hook) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, hook, null, "java/lang/Object", null);
        for (String[] m : HOOK_METHODS) {
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
            int arguments = org.objectweb.asm.Type.getArgumentTypes(m[1]).length; // all int or boolean
            Object[] locals = new Object[arguments];
            java.util.Arrays.fill(locals, Opcodes.INTEGER);
            mv.visitFrame(Opcodes.F_NEW, arguments, locals, 1, new Object[] {"java/lang/invoke/MethodHandle"});
            for (int slot = 0; slot < arguments; slot++) {
                mv.visitVarInsn(Opcodes.ILOAD, slot);
            }
            mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", m[1], false);
            mv.visitInsn(m[2].isEmpty() ? Opcodes.RETURN : Opcodes.IRETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC, "init", "([" + MH + ")V", null, null);
        init.visitCode();
        for (int i = 0; i < HOOK_METHODS.length; i++) {
            init.visitVarInsn(Opcodes.ALOAD, 0);
            init.visitIntInsn(Opcodes.BIPUSH, i);
            init.visitInsn(Opcodes.AALOAD);
            init.visitFieldInsn(Opcodes.PUTSTATIC, hook, HOOK_METHODS[i][0], MH);
        }
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }
}
