package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of Netty's {@code io.netty.channel.unix.FileDescriptor} (4.1 and 4.2, any copy or shading), for the
 * per-path accounting ({@code paths=on}): {@code markClosed()} is where every close of a socket of the native
 * transports starts, exactly once per fd (epoll's {@code close()} calls it before its native {@code close(int)};
 * io_uring's {@code doClose} calls it before it submits the close to its ring). Just before it returns:
 * {@code MptcpAgentHook.closing(result, fd)}, so that the agent reads the connection's last figures while the fd is
 * still open.
 */
final class CloseRewrite extends ClassVisitor {
    static final String SUFFIX = "io/netty/channel/unix/FileDescriptor";

    private final String owner;
    private final String hook;

    CloseRewrite(ClassVisitor next, String owner, String hook) {
        super(Opcodes.ASM9, next);
        this.owner = owner;
        this.hook = hook;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
        if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_NATIVE | Opcodes.ACC_ABSTRACT)) != 0
                || !"markClosed".equals(name) || !"()Z".equals(desc)) {
            return mv;
        }
        return new MethodVisitor(Opcodes.ASM9, mv) {
            @Override
            public void visitInsn(int opcode) {
                if (opcode == Opcodes.IRETURN) { // MptcpAgentHook.closing(result, fd), then return result
                    super.visitInsn(Opcodes.DUP);
                    super.visitVarInsn(Opcodes.ALOAD, 0);
                    super.visitFieldInsn(Opcodes.GETFIELD, owner, "fd", "I");
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "closing", "(ZI)V", false);
                }
                super.visitInsn(opcode);
            }
        };
    }
}
