package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of the socket channels of Netty's epoll (4.1, 4.2) and io_uring (4.2) transports, whose constructors make
 * their sockets ({@code super(LinuxSocket.newSocketStream(...), ...)}): each call of a static
 * {@code newSocketStream*} method there is preceded by {@code MptcpAgentHook.role(CLIENT)} in
 * {@code EpollSocketChannel} and {@code IoUringSocketChannel}, {@code MptcpAgentHook.role(LISTENER)} in
 * {@code EpollServerSocketChannel} and {@code IoUringServerSocketChannel}. The socket made next on that thread, in
 * {@code Socket.newSocketStream0}, then knows its role without a look at the stack ({@link CreationHints}): a listener
 * for {@code mode=server|client}, a client of a transport whose connects the agent sees, which may start as plain TCP
 * when the rules keep its destination TCP. Constructors that take an existing fd call no such method and are left as
 * they are. No branch is added.
 */
final class ChannelRoleRewrite extends ClassVisitor {
    static final String EPOLL_CLIENT = "io/netty/channel/epoll/EpollSocketChannel";
    static final String EPOLL_SERVER = "io/netty/channel/epoll/EpollServerSocketChannel";
    static final String URING_CLIENT = "io/netty/channel/uring/IoUringSocketChannel";
    static final String URING_SERVER = UringRewrite.SERVER;

    private final String hook;
    private final int role;

    ChannelRoleRewrite(ClassVisitor next, String hook, boolean listener) {
        super(Opcodes.ASM9, next);
        this.hook = hook;
        this.role = listener ? CreationHints.LISTENER : CreationHints.CLIENT;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
        return new MethodVisitor(Opcodes.ASM9, mv) {
            @Override
            public void visitMethodInsn(int opcode, String owner, String method, String d, boolean itf) {
                if (opcode == Opcodes.INVOKESTATIC && method.startsWith("newSocketStream")) {
                    super.visitInsn(role == CreationHints.LISTENER ? Opcodes.ICONST_2 : Opcodes.ICONST_1);
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "role", "(I)V", false);
                }
                super.visitMethodInsn(opcode, owner, method, d, itf);
            }
        };
    }
}
