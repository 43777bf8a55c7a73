package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * {@code options=compat} for the socket options Netty sets through its own natives: the Java wrappers of the options
 * MPTCP lacks but the policy can stand in for ({@code policy.SocketOptions}: the IPv4 TOS for the traffic class of a
 * socket that talks to IPv4 peers, and TCP_QUICKACK / SO_REUSEADDR accepted and remembered on an established MPTCP
 * connection) get a guard. In Java, for a setter and a getter:
 * <pre>
 * public void setTcpQuickAck(boolean v) {
 *     try { ...Netty's body... }
 *     catch (Throwable t) { if (!MptcpAgentHook.setFailed(intValue(), SOL_TCP, TCP_QUICKACK, v)) throw t; }
 * }
 * public boolean isTcpQuickAck() {
 *     int r = MptcpAgentHook.remembered(intValue(), SOL_TCP, TCP_QUICKACK); if (r >= 0) return r;
 *     try { ...Netty's body... }
 *     catch (Throwable t) { int v = MptcpAgentHook.getFailed(intValue(), SOL_TCP, TCP_QUICKACK); if (v >= 0) return v; throw t; }
 * }
 * </pre>
 * The socket is never turned into plain TCP here: Netty registers the fd with its epoll instance before it connects,
 * and the swap would drop that registration. The wrapped methods have no exception handlers of their own.
 *
 * <p>Also, when the rules decide connects ({@code pins}): {@code LinuxSocket.setTcpMd5Sig(InetAddress, byte[])} starts
 * with {@code MptcpAgentHook.tcpOnly(intValue())}. A client socket the agent made plain TCP on a guess keeps a TCP-MD5
 * key set before connect only as long as it stays TCP (MPTCP has no TCP_MD5SIG, and the kernel cannot report the key
 * to be carried): so it stays TCP ({@code policy.Decisions}).
 */
final class OptionGuards extends ClassVisitor {
    /** The epoll and io_uring sockets, whose option wrappers get {@link #LINUX_SOCKET}'s guards. */
    static final String EPOLL_SOCKET = "io/netty/channel/epoll/LinuxSocket";
    static final String URING_SOCKET = "io/netty/channel/uring/LinuxSocket";
    /** The guarded wrappers of {@code io.netty.channel.unix.Socket}: name, descriptor, level, option. */
    static final Object[][] UNIX_SOCKET = {
        {"setTrafficClass", "(I)V", 41, 67}, {"getTrafficClass", "()I", 41, 67},       // IPPROTO_IPV6, IPV6_TCLASS
        {"setReuseAddress", "(Z)V", 1, 2}, {"isReuseAddress", "()Z", 1, 2},             // SOL_SOCKET, SO_REUSEADDR
    };
    /** The guarded wrappers of the epoll and io_uring {@code LinuxSocket}s. */
    static final Object[][] LINUX_SOCKET = {
        {"setTcpQuickAck", "(Z)V", 6, 12}, {"isTcpQuickAck", "()Z", 6, 12},             // SOL_TCP, TCP_QUICKACK
    };

    /** The option setters of the epoll and io_uring {@code LinuxSocket}s that pin a socket to TCP ({@code pins}). */
    private static final String[][] TCP_ONLY = {{"setTcpMd5Sig", "(Ljava/net/InetAddress;[B)V"}};

    private final String owner;
    private final String hook;
    private final Object[][] guarded;
    private final boolean pins;

    /** {@code guarded}: the compat guards (none: null); {@code pins}: the TCP-only options' calls. */
    OptionGuards(ClassVisitor next, String owner, String hook, Object[][] guarded, boolean pins) {
        super(Opcodes.ASM9, next);
        this.owner = owner;
        this.hook = hook;
        this.guarded = guarded == null ? new Object[0][] : guarded;
        this.pins = pins;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
        if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_NATIVE | Opcodes.ACC_ABSTRACT)) != 0) {
            return mv;
        }
        for (Object[] g : guarded) {
            if (g[0].equals(name) && g[1].equals(desc)) {
                return new Guard(mv, desc.startsWith("()") ? false : true, (Integer) g[2], (Integer) g[3]);
            }
        }
        for (String[] p : TCP_ONLY) {
            if (pins && p[0].equals(name) && p[1].equals(desc)) {
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, owner, "intValue", "()I", false);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "tcpOnly", "(I)V", false);
                    }
                };
            }
        }
        return mv;
    }

    private final class Guard extends MethodVisitor {
        private final boolean setter;
        private final int level;
        private final int option;
        private final Label start = new Label();
        private final Label end = new Label();
        private final Label handler = new Label();

        Guard(MethodVisitor next, boolean setter, int level, int option) {
            super(Opcodes.ASM9, next);
            this.setter = setter;
            this.level = level;
            this.option = option;
        }

        /** Pushes intValue(), level, option. */
        private void fdLevelOption() {
            super.visitVarInsn(Opcodes.ALOAD, 0);
            super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, owner, "intValue", "()I", false);
            super.visitIntInsn(Opcodes.SIPUSH, level);
            super.visitIntInsn(Opcodes.SIPUSH, option);
        }

        @Override
        public void visitCode() {
            super.visitCode();
            super.visitTryCatchBlock(start, end, handler, "java/lang/Throwable");
            if (!setter) {
                Label own = new Label();
                fdLevelOption();
                super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "remembered", "(III)I", false);
                super.visitInsn(Opcodes.DUP);
                super.visitJumpInsn(Opcodes.IFLT, own);
                super.visitInsn(Opcodes.IRETURN);
                super.visitLabel(own);
                super.visitFrame(Opcodes.F_NEW, 1, new Object[] {owner}, 1, new Object[] {Opcodes.INTEGER});
                super.visitInsn(Opcodes.POP);
            }
            super.visitLabel(start);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitLabel(end);
            super.visitLabel(handler);
            Label rethrow = new Label();
            if (setter) {
                super.visitFrame(Opcodes.F_NEW, 2, new Object[] {owner, Opcodes.INTEGER}, 1, new Object[] {"java/lang/Throwable"});
                super.visitVarInsn(Opcodes.ASTORE, 2);
                fdLevelOption();
                super.visitVarInsn(Opcodes.ILOAD, 1);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "setFailed", "(IIII)Z", false);
                super.visitJumpInsn(Opcodes.IFEQ, rethrow);
                super.visitInsn(Opcodes.RETURN);
                super.visitLabel(rethrow);
                super.visitFrame(Opcodes.F_NEW, 3, new Object[] {owner, Opcodes.INTEGER, "java/lang/Throwable"}, 0, new Object[0]);
                super.visitVarInsn(Opcodes.ALOAD, 2);
            } else {
                super.visitFrame(Opcodes.F_NEW, 1, new Object[] {owner}, 1, new Object[] {"java/lang/Throwable"});
                super.visitVarInsn(Opcodes.ASTORE, 1);
                fdLevelOption();
                super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "getFailed", "(III)I", false);
                super.visitInsn(Opcodes.DUP);
                super.visitJumpInsn(Opcodes.IFLT, rethrow);
                super.visitInsn(Opcodes.IRETURN);
                super.visitLabel(rethrow);
                super.visitFrame(Opcodes.F_NEW, 2, new Object[] {owner, "java/lang/Throwable"}, 1, new Object[] {Opcodes.INTEGER});
                super.visitInsn(Opcodes.POP);
                super.visitVarInsn(Opcodes.ALOAD, 1);
            }
            super.visitInsn(Opcodes.ATHROW);
            super.visitMaxs(maxStack, maxLocals);
        }
    }
}
