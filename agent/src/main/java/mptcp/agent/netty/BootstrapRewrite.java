package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of Netty's client {@code io.netty.bootstrap.Bootstrap} (4.1, 4.2, any copy or shading), the first place
 * where a client's destination is known before its socket exists: every {@code connect(...)} ends in the private
 * {@code doResolveAndConnect(SocketAddress remote, SocketAddress local)}, whose first statement makes and registers
 * the channel ({@code initAndRegister()}, which makes the socket on this thread) and which connects it afterwards.
 * There the destination is handed to the agent for the socket about to be made:
 * <pre>
 * private ChannelFuture doResolveAndConnect(SocketAddress remote, SocketAddress local) {
 *     MptcpAgentHook.connectingTo(remote);
 *     ChannelFuture regFuture = initAndRegister();
 *     MptcpAgentHook.connectingTo(null);
 *     ...Netty's body
 * </pre>
 * so that a client socket whose destination the rules keep plain TCP is made TCP at once, with no conversion at
 * connect ({@link CreationHints}). The hook is {@code <prefix>io.netty.bootstrap.MptcpAgentHook}: netty-transport does
 * not depend on (nor, as a JPMS module, read) the unix jar that holds the other hook. A channel made elsewhere
 * ({@code register()} then {@code connect}, as gRPC and Reactor Netty do) gets no destination here. No branch added.
 */
final class BootstrapRewrite extends ClassVisitor {
    static final String SUFFIX = "io/netty/bootstrap/Bootstrap";
    static final String HOOK_PACKAGE = "io/netty/bootstrap/";

    private final String hook;

    BootstrapRewrite(ClassVisitor next, String hook) {
        super(Opcodes.ASM9, next);
        this.hook = hook;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
        if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0
                || !"doResolveAndConnect".equals(name) || !desc.startsWith("(Ljava/net/SocketAddress;Ljava/net/SocketAddress;)")) {
            return mv;
        }
        return new MethodVisitor(Opcodes.ASM9, mv) {
            private boolean registered;

            @Override
            public void visitCode() {
                super.visitCode();
                super.visitVarInsn(Opcodes.ALOAD, 1);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connectingTo", "(Ljava/lang/Object;)V", false);
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String method, String d, boolean itf) {
                super.visitMethodInsn(opcode, owner, method, d, itf);
                if (!registered && "initAndRegister".equals(method) && d.startsWith("()")) {
                    registered = true;
                    super.visitInsn(Opcodes.ACONST_NULL);
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "connectingTo", "(Ljava/lang/Object;)V", false);
                }
            }
        };
    }

    /** Whether {@code reader}'s class has the method this rewrite changes. */
    static boolean applies(org.objectweb.asm.ClassReader reader) {
        return Asm.has(reader, "doResolveAndConnect", null, false);
    }
}
