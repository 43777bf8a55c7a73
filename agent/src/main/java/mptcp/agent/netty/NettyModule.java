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
import mptcp.agent.engine.Engine;
import mptcp.agent.engine.InterceptionModule;
import mptcp.agent.log.Log;
import mptcp.agent.policy.Policy;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

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
 * io_uring's connects and accepts go through its ring: see {@link UringAccept}); and, when {@code rules}/{@code loopback}
 * decide connects or binds, it lets them decide just before Netty's connect and bind (see {@link Rewrite},
 * {@link UringAccept}; the conversion itself, which keeps the epoll registration, is {@code policy.Decisions}).
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
 *     // and setFailed(fd, level, option, value), getFailed(fd, level, option), remembered(fd, level, option): OptionGuards;
 *     // connecting(fd, transport, address, port), binding(fd, transport, address), epollAdded(epfd, fd): the rules
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
    /**
     * Netty 4.2's io_uring channel and its unsafe: where a connect through the ring is submitted ({@code submitConnect},
     * {@code fillTFOInitData}) and where it is fulfilled.
     */
    private static final String URING_CHANNEL = "io/netty/channel/uring/AbstractIoUringChannel";
    private static final String URING_UNSAFE = URING_CHANNEL + "$AbstractUringUnsafe";
    private static final String MH = "Ljava/lang/invoke/MethodHandle;";
    /** Netty's epoll natives: {@code epollCtlAdd}, through which an event loop adds each channel to its epoll set. */
    private static final String EPOLL_NATIVE = "io/netty/channel/epoll/Native";
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
                        takesHook(i) ? type.insertParameterTypes(0, Class.class) : type);
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
     * first copy of Netty is met.
     */
    @Override
    public void install(Instrumentation inst) throws Exception {
        // java.lang for ClassLoader.defineClass; java.net for the rules (Inet6Address's bytes read without a copy)
        Engine.open(inst, Object.class.getModule(), Set.of("java.lang", "java.net"), NettyModule.class.getModule());
        this.inst = inst;
        inst.addTransformer(this, true);
        List<Class<?>> loaded = new ArrayList<>();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            ClassLoader l = c.getClassLoader();
            if (l == null || l == platform) {
                continue; // the JDK's classes, most of those loaded: Netty never comes from the JDK's loaders
            }
            String n = c.getName();
            if (n.endsWith("io.netty.channel.epoll.Native") && inst.isModifiableClass(c)) {
                // first: every epoll registration of a socket made MPTCP from now on is then reported (the rules)
                loaded.add(0, c);
            } else if ((n.endsWith("io.netty.channel.unix.Socket") || n.endsWith("io.netty.channel.uring.IoUringServerSocketChannel")
                    || n.endsWith("io.netty.channel.uring.AbstractIoUringChannel")
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
        if (name == null || !(name.endsWith("Socket") || name.endsWith("Channel") || name.endsWith("Unsafe")
                || name.endsWith("Native"))) {
            return null; // the one check every other class of the JVM pays
        }
        String suffix = isNetty(name, SUFFIX) ? SUFFIX : isNetty(name, URING_SERVER) ? URING_SERVER
                : isNetty(name, URING_UNSAFE) ? URING_UNSAFE : isNetty(name, EPOLL_SOCKET) ? EPOLL_SOCKET
                : isNetty(name, URING_SOCKET) ? URING_SOCKET : isNetty(name, URING_CHANNEL) ? URING_CHANNEL
                : isNetty(name, EPOLL_NATIVE) ? EPOLL_NATIVE : null;
        if (suffix == null) {
            return null;
        }
        return Rewriting.transform(this, loader, name, suffix, redefined, domain, bytes);
    }

    /**
     * The rewrite of one class of Netty, with ASM: in a class of its own, so that the verifier of NettyModule loads no
     * ASM class and a JVM without Netty never does.
     */
    private static final class Rewriting {
        private Rewriting() {
        }

        static byte[] transform(NettyModule module, ClassLoader loader, String name, String suffix, Class<?> redefined,
                                ProtectionDomain domain, byte[] bytes) {
            try {
                ClassReader reader = new ClassReader(bytes);
                boolean connectRules = Policy.config().rules.decidesConnect();
                boolean bindRules = Policy.config().rules.decidesBind();
                boolean applies = suffix == SUFFIX ? has(reader, "newSocketStream0", "(Z)I", true)
                        : suffix == URING_SERVER ? has(reader, "newChildChannel", null, false)
                        : suffix == URING_UNSAFE ? has(reader, "fulfillConnectPromise", null, false)
                        : suffix == URING_CHANNEL ? connectRules && has(reader, "submitConnect", "(Ljava/net/InetSocketAddress;)V", false)
                        : suffix == EPOLL_NATIVE ? (connectRules || bindRules) && has(reader, "epollCtlAdd", "(III)V", true)
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
                    module.hook(loader, hook, domain); // the first class of this copy of Netty that needs it defines it
                ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
                boolean compat = Policy.config().compatOptions;
                ClassVisitor chain = suffix == SUFFIX
                        ? new Rewrite(compat ? new OptionGuards(writer, name, hook, OptionGuards.UNIX_SOCKET) : writer, name, hook,
                                connectRules, bindRules)
                        : suffix == URING_SERVER || suffix == URING_UNSAFE || suffix == URING_CHANNEL
                        ? new UringAccept(writer, prefix, hook, suffix, connectRules)
                        : suffix == EPOLL_NATIVE ? new EpollAdds(writer, hook)
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
     *
     * <p>The rules ({@code connectRules}): a connect is submitted to the ring by the private
     * {@code AbstractIoUringChannel.submitConnect(InetSocketAddress)}, after Netty's checks and after any bind, and a
     * TCP Fast Open connect (a sendmsg with MSG_FASTOPEN) by {@code AbstractUringUnsafe.fillTFOInitData(MsgHdrMemory,
     * InetSocketAddress, ByteBuf)}, before its sendmsg is submitted; both start with
     * {@code MptcpAgentHook.connecting(fd().intValue(), this, address, -1)}. Nothing of the ring is pending on the fd
     * then (polls are armed once the channel is active), and the ring keeps no registration: the fd number is all it
     * is given, so the socket under it can change.
     */
    private static final class UringAccept extends ClassVisitor {
        private final String prefix;
        private final String hook;
        private final String suffix;
        private final boolean connectRules;

        UringAccept(ClassVisitor next, String prefix, String hook, String suffix, boolean connectRules) {
            super(Opcodes.ASM9, next);
            this.prefix = prefix;
            this.hook = hook;
            this.suffix = suffix;
            this.connectRules = connectRules;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            if ((access & Opcodes.ACC_STATIC) != 0) {
                return mv;
            }
            String fd = prefix + "io/netty/channel/unix/FileDescriptor";
            String channel = prefix + URING_CHANNEL;
            boolean accept = suffix.equals(URING_SERVER) && "newChildChannel".equals(name) && desc.startsWith("(I");
            boolean fulfil = suffix.equals(URING_UNSAFE) && "fulfillConnectPromise".equals(name)
                    && desc.equals("(L" + prefix + "io/netty/channel/ChannelPromise;Z)V");
            int address = !connectRules ? -1
                    : suffix.equals(URING_CHANNEL) && "submitConnect".equals(name) && desc.equals("(Ljava/net/InetSocketAddress;)V") ? 1
                    : suffix.equals(URING_UNSAFE) && "fillTFOInitData".equals(name) ? slotOf(desc, "Ljava/net/InetSocketAddress;") : -1;
            if (!accept && !fulfil && address < 0) {
                return mv;
            }
            boolean inChannel = suffix.equals(URING_CHANNEL) || suffix.equals(URING_SERVER);
            return new MethodVisitor(Opcodes.ASM9, mv) {
                /** this.fd().intValue() (the channel's), or this$0.fd().intValue() from its unsafe. */
                private void fd() {
                    super.visitVarInsn(Opcodes.ALOAD, 0);
                    if (inChannel) {
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, prefix + suffix, "fd", "()L" + fd + ";", false);
                    } else {
                        super.visitFieldInsn(Opcodes.GETFIELD, prefix + URING_UNSAFE, "this$0", "L" + channel + ";");
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, channel, "fd", "()L" + fd + ";", false);
                    }
                    super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, fd, "intValue", "()I", false);
                }

                @Override
                public void visitCode() {
                    super.visitCode();
                    if (accept) {
                        super.visitVarInsn(Opcodes.ILOAD, 1);
                        fd();
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "accepted", "(II)V", false);
                    } else if (fulfil) {
                        super.visitInsn(Opcodes.ICONST_1);
                        fd();
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connected", "(ZI)V", false);
                    } else {
                        fd();
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitVarInsn(Opcodes.ALOAD, address);
                        super.visitInsn(Opcodes.ICONST_M1);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", CONNECTING, false);
                    }
                }
            };
        }
    }

    /** The local variable slot of the first argument of type {@code type} in a non-static method's {@code desc}, or -1. */
    static int slotOf(String desc, String type) {
        int slot = 1;
        for (Type t : Type.getArgumentTypes(desc)) {
            if (t.getDescriptor().equals(type)) {
                return slot;
            }
            slot += t.getSize();
        }
        return -1;
    }

    /**
     * For the rules: {@code Native.epollCtlAdd(int efd, int fd, int flags)} (epoll, Netty 4.1 and 4.2), the Java
     * wrapper through which an event loop adds a channel's socket to its epoll set (Netty 4.1 when the channel is
     * registered, before any bind or connect; 4.2.18 when the channel first asks for events), starts with
     * {@code MptcpAgentHook.epollAdded(efd, fd)}: a socket a rule converts then has its registration renewed from
     * that one epoll set ({@code policy.Decisions}), without looking for it in /proc/self/fd.
     */
    private static final class EpollAdds extends ClassVisitor {
        private final String hook;

        EpollAdds(ClassVisitor next, String hook) {
            super(Opcodes.ASM9, next);
            this.hook = hook;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
            if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_NATIVE)) != Opcodes.ACC_STATIC
                    || !"epollCtlAdd".equals(name) || !"(III)V".equals(desc)) {
                return mv;
            }
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitCode() {
                    super.visitCode();
                    super.visitVarInsn(Opcodes.ILOAD, 0);
                    super.visitVarInsn(Opcodes.ILOAD, 1);
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "epollAdded", "(II)V", false);
                }
            };
        }
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

    /** Defines the hook class in {@code loader} (or finds the one defined before) and wires it to the agent. */
    private void hook(ClassLoader loader, String hook, ProtectionDomain domain) throws Throwable {
        String binary = hook.replace('/', '.');
        Class<?> c;
        try {
            byte[] b = hookBytes(hook);
            c = (Class<?>) defineClass().invoke(loader, binary, b, 0, b.length, domain);
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
        MethodHandle[] handlers = handlers();
        MethodHandle[] wired = handlers.clone();
        for (int i = 0; i < wired.length; i++) {
            if (takesHook(i)) {
                wired[i] = MethodHandles.insertArguments(handlers[i], 0, c); // the handler knows its copy of Netty
            }
        }
        init.invoke(null, (Object) wired);
    }

    /**
     * Rewrites newSocketStream0(Z)I, reports connect/finishConnect/accept results to the hook and, when rules decide
     * connects ({@code connectRules}) or binds ({@code bindRules}), lets them decide first: {@code connect(SocketAddress)}
     * and {@code bind(SocketAddress)} start with {@code MptcpAgentHook.connecting(intValue(), this, address, -1)} and
     * {@code MptcpAgentHook.binding(intValue(), this, address)}; the TCP Fast Open sends that connect (epoll's
     * {@code sendTo}, {@code sendToAddress}, {@code sendToAddresses} with {@code fastOpen} true) start with
     * {@code if (fastOpen) MptcpAgentHook.connecting(intValue(), this, addr, port)}.
     */
    private static final class Rewrite extends ClassVisitor {
        private final String owner;
        private final String hook;
        private final boolean connectRules;
        private final boolean bindRules;

        Rewrite(ClassVisitor next, String owner, String hook, boolean connectRules, boolean bindRules) {
            super(Opcodes.ASM9, next);
            this.owner = owner;
            this.hook = hook;
            this.connectRules = connectRules;
            this.bindRules = bindRules;
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
            if (statik || (access & (Opcodes.ACC_NATIVE | Opcodes.ACC_ABSTRACT)) != 0) {
                return mv;
            }
            boolean connectTo = "connect".equals(name) && "(Ljava/net/SocketAddress;)Z".equals(desc);
            boolean connect = connectTo || "finishConnect".equals(name) && "()Z".equals(desc);
            boolean accept = "accept".equals(name) && "([B)I".equals(desc);
            boolean decideConnect = connectRules && connectTo;
            boolean decideBind = bindRules && "bind".equals(name) && "(Ljava/net/SocketAddress;)V".equals(desc);
            boolean fastOpen = connectRules && name.startsWith("sendTo") && desc.endsWith("Ljava/net/InetAddress;IZ)I")
                    && ("sendTo".equals(name) || "sendToAddress".equals(name) || "sendToAddresses".equals(name));
            if (!connect && !accept && !decideBind && !fastOpen) {
                return mv;
            }
            return new MethodVisitor(Opcodes.ASM9, mv) {
                @Override
                public void visitCode() {
                    super.visitCode();
                    if (decideConnect || decideBind) {
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, owner, "intValue", "()I", false);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitVarInsn(Opcodes.ALOAD, 1);
                        if (decideConnect) {
                            super.visitInsn(Opcodes.ICONST_M1);
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", CONNECTING, false);
                        } else {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "binding", BINDING, false);
                        }
                    } else if (fastOpen) {
                        fastOpen();
                    }
                }

                /** if (fastOpen) MptcpAgentHook.connecting(intValue(), this, addr, port); then a NOP, Netty's body after. */
                private void fastOpen() {
                    Type[] args = Type.getArgumentTypes(desc);
                    int address = slotOf(desc, "Ljava/net/InetAddress;");
                    int flag = 1;
                    Object[] locals = new Object[args.length + 1];
                    locals[0] = owner;
                    for (int k = 0; k < args.length; k++) {
                        locals[k + 1] = frameType(args[k]);
                        if (k < args.length - 1) {
                            flag += args[k].getSize();
                        }
                    }
                    Label skip = new Label();
                    super.visitVarInsn(Opcodes.ILOAD, flag);
                    super.visitJumpInsn(Opcodes.IFEQ, skip);
                    super.visitVarInsn(Opcodes.ALOAD, 0);
                    super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, owner, "intValue", "()I", false);
                    super.visitVarInsn(Opcodes.ALOAD, 0);
                    super.visitVarInsn(Opcodes.ALOAD, address);
                    super.visitVarInsn(Opcodes.ILOAD, address + 1); // the port follows the address
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", CONNECTING, false);
                    super.visitLabel(skip);
                    super.visitFrame(Opcodes.F_NEW, locals.length, locals, 0, new Object[0]);
                    super.visitInsn(Opcodes.NOP); // so that a frame of Netty's own first instruction gets an offset of its own
                }

                @Override
                public void visitInsn(int opcode) {
                    if (opcode == Opcodes.IRETURN && (connect || accept)) {
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

    /** A method argument's type as a stack map frame entry. */
    private static Object frameType(Type t) {
        switch (t.getSort()) {
            case Type.BOOLEAN:
            case Type.BYTE:
            case Type.CHAR:
            case Type.SHORT:
            case Type.INT:
                return Opcodes.INTEGER;
            case Type.LONG:
                return Opcodes.LONG;
            case Type.FLOAT:
                return Opcodes.FLOAT;
            case Type.DOUBLE:
                return Opcodes.DOUBLE;
            default:
                return t.getInternalName();
        }
    }

    private static final String CONNECTING = "(ILjava/lang/Object;Ljava/lang/Object;I)V";
    private static final String BINDING = "(ILjava/lang/Object;Ljava/lang/Object;)V";

    /**
     * The hook's methods, in init order: name, descriptor, what it answers before it is wired (-1, 0 or void), and
     * "hook" when the handler in {@link NettySockets} takes the hook class (its copy of Netty) first.
     */
    static final String[][] HOOK_METHODS = {
        {"socket", "(Z)I", "-1", "hook"}, {"connected", "(ZI)V", "", ""}, {"accepted", "(II)V", "", ""},
        {"setFailed", "(IIII)Z", "0", ""}, {"getFailed", "(III)I", "-1", ""}, {"remembered", "(III)I", "-1", ""},
        {"connecting", CONNECTING, "", "hook"}, {"binding", BINDING, "", "hook"}, {"epollAdded", "(II)V", "", "hook"},
    };

    private static boolean takesHook(int i) {
        return !HOOK_METHODS[i][3].isEmpty();
    }

    /** The bytes of the hook class shown in the class comment. */
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
            Type[] args = Type.getArgumentTypes(m[1]); // int, boolean or Object: one slot each
            Object[] locals = new Object[args.length];
            for (int slot = 0; slot < args.length; slot++) {
                locals[slot] = frameType(args[slot]);
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
