package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of Netty 4.2's io_uring channels, which accept and connect through their ring, not through
 * {@code Socket.accept}/{@code connect}:
 * <ul>
 * <li>an accepted fd reaches Java in {@code IoUringServerSocketChannel.newChildChannel(int fd, ByteBuffer address)},
 *     whose first instructions become {@code MptcpAgentHook.accepted(fd, fd().intValue())};</li>
 * <li>a completed connect is fulfilled in {@code AbstractIoUringChannel.AbstractUringUnsafe.fulfillConnectPromise
 *     (ChannelPromise, boolean)}, whose first instructions become
 *     {@code MptcpAgentHook.connected(true, this$0.fd().intValue())};</li>
 * <li>the rules ({@code connectRules}): a connect is submitted to the ring by the private
 *     {@code AbstractIoUringChannel.submitConnect(InetSocketAddress)}, after Netty's checks and after any bind, and a
 *     TCP Fast Open connect (a sendmsg with MSG_FASTOPEN) by {@code AbstractUringUnsafe.fillTFOInitData(MsgHdrMemory,
 *     InetSocketAddress, ByteBuf)}, before its sendmsg is submitted; both start with
 *     {@code MptcpAgentHook.connecting(fd().intValue(), this, address, -1)}. Nothing of the ring is pending on the fd
 *     then (polls are armed once the channel is active), and the ring keeps no registration: the fd number is all it
 *     is given, so the socket under it can change.</li>
 * </ul>
 * No branch is added (no stack map frame to compute).
 */
final class UringRewrite extends ClassVisitor {
    /** Netty 4.2's io_uring server channel, whose accepts do not pass through {@code Socket.accept}. */
    static final String SERVER = "io/netty/channel/uring/IoUringServerSocketChannel";
    /** Where a connect through the ring is submitted ({@code submitConnect}). */
    static final String CHANNEL = "io/netty/channel/uring/AbstractIoUringChannel";
    /** Where a TCP Fast Open connect is prepared ({@code fillTFOInitData}) and where every connect is fulfilled. */
    static final String UNSAFE = CHANNEL + "$AbstractUringUnsafe";

    private final String prefix;
    private final String hook;
    private final String suffix;
    private final boolean connectRules;

    UringRewrite(ClassVisitor next, String prefix, String hook, String suffix, boolean connectRules) {
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
        String channel = prefix + CHANNEL;
        boolean accept = suffix.equals(SERVER) && "newChildChannel".equals(name) && desc.startsWith("(I");
        boolean fulfil = suffix.equals(UNSAFE) && "fulfillConnectPromise".equals(name)
                && desc.equals("(L" + prefix + "io/netty/channel/ChannelPromise;Z)V");
        int address = !connectRules ? -1
                : suffix.equals(CHANNEL) && "submitConnect".equals(name) && desc.equals("(Ljava/net/InetSocketAddress;)V") ? 1
                : suffix.equals(UNSAFE) && "fillTFOInitData".equals(name) ? Asm.slotOf(desc, "Ljava/net/InetSocketAddress;") : -1;
        if (!accept && !fulfil && address < 0) {
            return mv;
        }
        boolean inChannel = suffix.equals(CHANNEL) || suffix.equals(SERVER);
        return new MethodVisitor(Opcodes.ASM9, mv) {
            /** this.fd().intValue() (the channel's), or this$0.fd().intValue() from its unsafe. */
            private void fd() {
                super.visitVarInsn(Opcodes.ALOAD, 0);
                if (inChannel) {
                    super.visitMethodInsn(Opcodes.INVOKEVIRTUAL, prefix + suffix, "fd", "()L" + fd + ";", false);
                } else {
                    super.visitFieldInsn(Opcodes.GETFIELD, prefix + UNSAFE, "this$0", "L" + channel + ";");
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
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", HookClass.CONNECTING, false);
                }
            }
        };
    }
}
