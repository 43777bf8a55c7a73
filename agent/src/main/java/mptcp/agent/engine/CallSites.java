package mptcp.agent.engine;

import java.util.List;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The rewrite itself, with ASM: each call site of an installed redirect becomes a call of the trampoline's method of
 * the same name. Only the methods that hold such a call site change; everything else is copied as it is.
 */
final class CallSites {
    private CallSites() {
    }

    static byte[] rewrite(byte[] bytes, String className, String trampoline, List<Redirect> redirects) {
        ClassReader reader = new ClassReader(bytes);
        // A rewritten call site takes the same operands as the original (an instance call's receiver becomes the
        // first argument), so every method keeps its max_stack and max_locals. Recomputing them is not only
        // slower: on JDK 17, C1 rejected a retransformed UnixAsynchronousServerSocketChannelImpl with recomputed
        // maxs ("Illegal class file" in GenerateOopMap) after an attach to a JVM with a busy async server channel.
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new Calls(writer, className, trampoline, redirects), 0);
        return writer.toByteArray();
    }

    private static final class Calls extends ClassVisitor {
        private final String className;
        private final String trampoline;
        private final List<Redirect> redirects;

        Calls(ClassVisitor next, String className, String trampoline, List<Redirect> redirects) {
            super(Opcodes.ASM9, next);
            this.className = className;
            this.trampoline = trampoline;
            this.redirects = redirects;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
            return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, signature, exceptions)) {
                @Override
                public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                    for (Redirect r : redirects) {
                        boolean kind = r.instance ? op == Opcodes.INVOKEVIRTUAL || op == Opcodes.INVOKESPECIAL
                                : op == Opcodes.INVOKESTATIC;
                        if (kind && r.installed() && r.owner.equals(owner) && r.name.equals(method)
                                && r.desc.equals(mdesc) && r.callers.contains(className)) {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, trampoline, r.name, r.handlerDesc(), false);
                            return;
                        }
                    }
                    super.visitMethodInsn(op, owner, method, mdesc, itf);
                }
            };
        }
    }
}
