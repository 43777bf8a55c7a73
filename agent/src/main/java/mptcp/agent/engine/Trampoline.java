package mptcp.agent.engine;

import java.util.List;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * The bytes of the trampoline class that rewritten platform code calls. Code inside {@code java.base} only sees
 * bootstrap classes, so the trampoline is defined at run time inside a platform package (so the agent jar is never
 * appended to the bootstrap class path, which would downgrade CDS). Per redirect it has a method-handle field, set to
 * the handler, and a static method of the handler's name and descriptor; in Java it would read:
 * <pre>
 * public final class MptcpAgentHook {
 *     public static volatile MethodHandle socket0;  // the handler
 *     public static int socket0(boolean a, boolean b, boolean c, boolean d) { return (int) socket0.invokeExact(a, b, c, d); }
 *     ...
 * }
 * </pre>
 */
final class Trampoline {
    private static final String MH = "Ljava/lang/invoke/MethodHandle;";

    private Trampoline() {
    }

    static byte[] bytes(String internalName, List<Redirect> redirects) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, internalName, null,
                "java/lang/Object", null);
        for (Redirect r : redirects) {
            String desc = r.handlerDesc();
            cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, r.name, MH, null, null).visitEnd();
            MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, r.name, desc, null, null);
            m.visitCode();
            m.visitFieldInsn(Opcodes.GETSTATIC, internalName, r.name, MH);
            int slot = 0;
            for (Type arg : Type.getArgumentTypes(desc)) {
                m.visitVarInsn(arg.getOpcode(Opcodes.ILOAD), slot);
                slot += arg.getSize();
            }
            m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", desc, false);
            m.visitInsn(Type.getReturnType(desc).getOpcode(Opcodes.IRETURN));
            m.visitMaxs(0, 0);
            m.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }
}
