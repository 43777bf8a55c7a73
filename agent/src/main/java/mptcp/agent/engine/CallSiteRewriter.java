package mptcp.agent.engine;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Set;

import mptcp.agent.log.Log;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The transformer of {@link Engine}: in each caller class of the JDK's own loaders, rewrites the call sites of the
 * installed redirects into calls of the trampoline's method of the same name. Only the methods that hold such a call
 * site change; everything else is copied as it is.
 */
final class CallSiteRewriter implements ClassFileTransformer {
    private final String trampoline;
    private final List<Redirect> redirects;
    private final Set<String> callers;
    final Set<String> transformed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    CallSiteRewriter(String trampoline, List<Redirect> redirects) {
        this.trampoline = trampoline;
        this.redirects = redirects;
        Set<String> all = new java.util.HashSet<>();
        for (Redirect r : redirects) {
            all.addAll(r.callers);
        }
        this.callers = Set.copyOf(all);
    }

    boolean isCaller(String internalName) {
        return callers.contains(internalName);
    }

    /** The JDK's own loaders: the platform classes live in java.base (bootstrap) and jdk.* modules (platform). */
    static boolean jdkLoader(ClassLoader loader) {
        return loader == null || loader == ClassLoader.getPlatformClassLoader();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (name == null || !callers.contains(name) || !jdkLoader(loader)) {
            return null;
        }
        try {
            ClassReader reader = new ClassReader(bytes);
            // A rewritten call site takes the same operands as the original (an instance call's receiver becomes the
            // first argument), so every method keeps its max_stack and max_locals. Recomputing them is not only
            // slower: on JDK 17, C1 rejected a retransformed UnixAsynchronousServerSocketChannelImpl with recomputed
            // maxs ("Illegal class file" in GenerateOopMap) after an attach to a JVM with a busy async server channel.
            ClassWriter writer = new ClassWriter(reader, 0);
            reader.accept(new Calls(writer, name), 0);
            transformed.add(name);
            Log.debug("instrumented " + name.replace('/', '.'));
            return writer.toByteArray();
        } catch (Throwable t) {
            Log.error("could not instrument " + name.replace('/', '.') + ": " + t + "; its sockets stay TCP");
            return null;
        }
    }

    private final class Calls extends ClassVisitor {
        private final String className;

        Calls(ClassVisitor next, String className) {
            super(Opcodes.ASM9, next);
            this.className = className;
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
