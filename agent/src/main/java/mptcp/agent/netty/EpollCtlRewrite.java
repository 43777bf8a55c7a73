package mptcp.agent.netty;

import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite of Netty's {@code io.netty.channel.epoll.Native} (4.1 and 4.2, any copy or shading): its Java wrappers
 * {@code epollCtlAdd(int efd, int fd, int flags)}, {@code epollCtlMod(int efd, int fd, int flags)} and
 * {@code epollCtlDel(int efd, int fd)}, through which every epoll event loop of Netty adds, changes and removes a
 * channel's registration, report each change that succeeded, just before they return:
 * {@code MptcpAgentHook.epollCtl(EPOLL_CTL_ADD|MOD|DEL, efd, fd, flags)} (an int array store, no syscall). So the agent
 * knows each socket's registration (its epoll set and events; Netty's native code gives the fd itself as the data)
 * without reading /proc, and renews it when it changes the socket's protocol under the same fd number (which drops the
 * registration with the old file). Netty 4.1 registers a channel before it binds or connects; Netty 4.2.18 when the
 * channel first asks for events, after connect or bind. The natives ({@code epollCtlAdd0}, ...) are not touched.
 */
final class EpollCtlRewrite extends ClassVisitor {
    static final String SUFFIX = "io/netty/channel/epoll/Native";
    private static final int ADD = 1;
    private static final int DEL = 2;
    private static final int MOD = 3;

    private final String hook;

    EpollCtlRewrite(ClassVisitor next, String hook) {
        super(Opcodes.ASM9, next);
        this.hook = hook;
    }

    @Override
    public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
        if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_NATIVE)) != Opcodes.ACC_STATIC) {
            return mv;
        }
        int op = "epollCtlAdd".equals(name) && "(III)V".equals(desc) ? ADD
                : "epollCtlMod".equals(name) && "(III)V".equals(desc) ? MOD
                : "epollCtlDel".equals(name) && "(II)V".equals(desc) ? DEL : 0;
        if (op == 0) {
            return mv;
        }
        return new MethodVisitor(Opcodes.ASM9, mv) {
            @Override
            public void visitInsn(int opcode) {
                if (opcode == Opcodes.RETURN) { // the native call succeeded (a failure throws)
                    super.visitInsn(op == ADD ? Opcodes.ICONST_1 : op == DEL ? Opcodes.ICONST_2 : Opcodes.ICONST_3);
                    super.visitVarInsn(Opcodes.ILOAD, 0);
                    super.visitVarInsn(Opcodes.ILOAD, 1);
                    if (op == DEL) {
                        super.visitInsn(Opcodes.ICONST_0);
                    } else {
                        super.visitVarInsn(Opcodes.ILOAD, 2);
                    }
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, hook, "epollCtl", "(IIII)V", false);
                }
                super.visitInsn(opcode);
            }
        };
    }
}
