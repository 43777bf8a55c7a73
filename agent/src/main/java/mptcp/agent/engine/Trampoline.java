package mptcp.agent.engine;

import java.util.List;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * The bytes of the two classes that connect rewritten platform code to the handlers. Code inside {@code java.base}
 * only sees bootstrap classes, so the trampoline is defined at run time inside a platform package (the agent jar is
 * never appended to the bootstrap class path, which would downgrade CDS). It is an abstract class with, per redirect,
 * a static method that the rewritten call sites call and an abstract method it forwards to; the <em>dispatch</em>
 * class, defined in the handlers' package of the agent, extends it and implements each abstract method as a plain
 * static call of the handler. In Java they would read:
 * <pre>
 * public abstract class MptcpAgentHook {                       // in the host's package, e.g. sun.nio.ch
 *     public static volatile MptcpAgentHook dispatch;          // set once, by the dispatch class's initialiser
 *     protected MptcpAgentHook() { }
 *     public static int socket0(boolean a, boolean b, boolean c, boolean d) { return dispatch.socket0$(a, b, c, d); }
 *     public abstract int socket0$(boolean a, boolean b, boolean c, boolean d);
 *     ...
 * }
 * public final class MptcpAgentDispatch extends MptcpAgentHook {   // in the handlers' package, the agent's loader
 *     static { MptcpAgentHook.dispatch = new MptcpAgentDispatch(); }
 *     public int socket0$(boolean a, boolean b, boolean c, boolean d) { return JdkSockets.socket0(a, b, c, d); }
 *     ...
 * }
 * </pre>
 * No method handle and no reflection sits between a call site and its handler: the JIT sees a monomorphic virtual
 * call and a static call, and wiring costs two class definitions instead of a method handle (and its lambda forms)
 * per redirect.
 */
final class Trampoline {
    /** The static field of the trampoline that holds the one dispatch object. */
    static final String FIELD = "dispatch";
    /** The suffix of the abstract method that a trampoline method forwards to. */
    static final String ABSTRACT_SUFFIX = "$";
    /** The class-file version of both classes (a constant: naming it loads no ASM class). */
    static final int VERSION = Opcodes.V17;

    private Trampoline() {
    }

    /** The abstract trampoline class {@code internalName}. */
    static byte[] bytes(String internalName, List<Redirect> redirects) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(VERSION, Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_SUPER, internalName, null,
                "java/lang/Object", null);
        String self = "L" + internalName + ";";
        cw.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, FIELD, self, null, null).visitEnd();
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PROTECTED, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        for (Redirect r : redirects) {
            String desc = r.handlerDesc();
            cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, r.name + ABSTRACT_SUFFIX, desc, null, null).visitEnd();
            MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, r.name, desc, null, null);
            m.visitCode();
            m.visitFieldInsn(Opcodes.GETSTATIC, internalName, FIELD, self);
            loadArguments(m, desc, 0);
            m.visitMethodInsn(Opcodes.INVOKEVIRTUAL, internalName, r.name + ABSTRACT_SUFFIX, desc, false);
            m.visitInsn(Type.getReturnType(desc).getOpcode(Opcodes.IRETURN));
            m.visitMaxs(0, 0);
            m.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }

    /** The dispatch class {@code internalName}, extending the trampoline {@code trampoline}. */
    static byte[] dispatch(String internalName, String trampoline, List<Redirect> redirects) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(VERSION, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, internalName, null,
                trampoline, null);
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PRIVATE, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, trampoline, "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor clinit = cw.visitMethod(Opcodes.ACC_STATIC, "<clinit>", "()V", null, null);
        clinit.visitCode();
        clinit.visitTypeInsn(Opcodes.NEW, internalName);
        clinit.visitInsn(Opcodes.DUP);
        clinit.visitMethodInsn(Opcodes.INVOKESPECIAL, internalName, "<init>", "()V", false);
        clinit.visitFieldInsn(Opcodes.PUTSTATIC, trampoline, FIELD, "L" + trampoline + ";");
        clinit.visitInsn(Opcodes.RETURN);
        clinit.visitMaxs(0, 0);
        clinit.visitEnd();
        for (Redirect r : redirects) {
            String desc = r.handlerDesc();
            MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC, r.name + ABSTRACT_SUFFIX, desc, null, null);
            m.visitCode();
            loadArguments(m, desc, 1);
            m.visitMethodInsn(Opcodes.INVOKESTATIC, Type.getInternalName(r.handler), r.name, desc, false);
            m.visitInsn(Type.getReturnType(desc).getOpcode(Opcodes.IRETURN));
            m.visitMaxs(0, 0);
            m.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static void loadArguments(MethodVisitor m, String desc, int slot) {
        for (Type arg : Type.getArgumentTypes(desc)) {
            m.visitVarInsn(arg.getOpcode(Opcodes.ILOAD), slot);
            slot += arg.getSize();
        }
    }
}
