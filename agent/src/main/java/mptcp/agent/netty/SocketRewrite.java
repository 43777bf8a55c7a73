package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * The rewrite of {@code io.netty.channel.unix.Socket} (every copy and shading of Netty; epoll and io_uring share it),
 * where the stream sockets of Netty's native transports are made, and epoll's are connected, bound and accepted:
 * <ul>
 * <li>socket creation: the body of {@code static int newSocketStream0(boolean ipv6)} starts with
 *     {@code int fd = MptcpAgentHook.socket(ipv6); if (fd >= 0) return fd;} and Netty's own body follows (it runs when
 *     the agent answers -1), whose result goes to {@code MptcpAgentHook.own(fd)} before it is returned (nothing known
 *     of an earlier socket under that fd number applies to it). Call sites name subclasses ({@code epoll.LinuxSocket}, {@code uring.LinuxSocket}), which
 *     is why the body, not the call sites, is rewritten. The native {@code newSocketStreamFd} (bound by
 *     {@code RegisterNatives}) is never touched.</li>
 * <li>connections counted: the results of {@code connect(SocketAddress)}, {@code finishConnect()} and
 *     {@code accept(byte[])} go to {@code MptcpAgentHook.connected(result, intValue())} /
 *     {@code accepted(result, intValue())} just before they are returned.</li>
 * <li>the rules, when they decide connects ({@code connectRules}) or binds ({@code bindRules}):
 *     {@code connect(SocketAddress)} and {@code bind(SocketAddress)} start with
 *     {@code MptcpAgentHook.connecting(intValue(), this, address, -1)} / {@code binding(intValue(), this, address)};
 *     the TCP Fast Open sends that connect (epoll's {@code sendTo}, {@code sendToAddress}, {@code sendToAddresses}
 *     with {@code fastOpen} true) start with {@code if (fastOpen) MptcpAgentHook.connecting(intValue(), this, addr,
 *     port)}.</li>
 * </ul>
 * Body-only changes: {@code retransformClasses} allows them, so the same rewrite serves {@code attach}.
 */
final class SocketRewrite extends ClassVisitor {
    static final String SUFFIX = "io/netty/channel/unix/Socket";

    private final String owner;
    private final String hook;
    private final boolean connectRules;
    private final boolean bindRules;

    SocketRewrite(ClassVisitor next, String owner, String hook, boolean connectRules, boolean bindRules) {
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

                @Override
                public void visitInsn(int opcode) {
                    if (opcode == Opcodes.IRETURN) { // Netty's own socket: MptcpAgentHook.own(fd), then return it
                        super.visitInsn(Opcodes.DUP);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "own", "(I)V", false);
                    }
                    super.visitInsn(opcode);
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
        boolean fastOpen = connectRules && desc.endsWith("Ljava/net/InetAddress;IZ)I")
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
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", HookClass.CONNECTING, false);
                    } else {
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "binding", HookClass.BINDING, false);
                    }
                } else if (fastOpen) {
                    fastOpen();
                }
            }

            /** if (fastOpen) MptcpAgentHook.connecting(intValue(), this, addr, port); then a NOP, Netty's body after. */
            private void fastOpen() {
                Type[] args = Type.getArgumentTypes(desc);
                int address = Asm.slotOf(desc, "Ljava/net/InetAddress;");
                int flag = 1;
                Object[] locals = new Object[args.length + 1];
                locals[0] = owner;
                for (int k = 0; k < args.length; k++) {
                    locals[k + 1] = Asm.frameType(args[k]);
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
                super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connecting", HookClass.CONNECTING, false);
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
