package mptcp.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Build step (agent/pom.xml), run on the agent's unpacked copy of jffi's {@code com.kenai.jffi.Foreign}: its static
 * initialiser reads its three version fields from {@code com.kenai.jffi.Version} by reflection
 * ({@code getVersionField("MAJOR")}: Class.forName, Class.getPackage, Field.get). On JDK 18+ that reflection spins
 * method handles and a lambda at the agent's start-up (~2–3 ms on JDK 25). This step replaces each
 * {@code ldc "NAME"; invokestatic getVersionField} of that initialiser by {@code getstatic Version.NAME}: the same
 * values from the same class, read directly. Nothing else changes; the build fails unless exactly the three reads
 * are found (another jffi version must be looked at again).
 *
 * <p>Usage: {@code JffiVersionFields <path of Foreign.class>} (rewritten in place).
 */
public final class JffiVersionFields {
    private static final String FOREIGN = "com/kenai/jffi/Foreign";
    private static final String VERSION = "com/kenai/jffi/Version";

    private JffiVersionFields() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        ClassReader reader = new ClassReader(Files.readAllBytes(file));
        if (!FOREIGN.equals(reader.getClassName())) {
            throw new IllegalStateException(file + " is not " + FOREIGN);
        }
        ClassWriter writer = new ClassWriter(reader, 0); // same stack depth: one int where one String was
        int[] replaced = {0};
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
                if (!"<clinit>".equals(name)) {
                    return mv;
                }
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    /** A string constant just loaded, held back until the next instruction shows what it is for. */
                    private String pending;

                    private void flush() {
                        if (pending != null) {
                            super.visitLdcInsn(pending);
                            pending = null;
                        }
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        flush();
                        if (value instanceof String) {
                            pending = (String) value;
                        } else {
                            super.visitLdcInsn(value);
                        }
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String name, String desc, boolean itf) {
                        if (pending != null && opcode == Opcodes.INVOKESTATIC && FOREIGN.equals(owner)
                                && "getVersionField".equals(name) && "(Ljava/lang/String;)I".equals(desc)) {
                            super.visitFieldInsn(Opcodes.GETSTATIC, VERSION, pending, "I");
                            pending = null;
                            replaced[0]++;
                            return;
                        }
                        flush();
                        super.visitMethodInsn(opcode, owner, name, desc, itf);
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        flush();
                        super.visitInsn(opcode);
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String name, String desc) {
                        flush();
                        super.visitFieldInsn(opcode, owner, name, desc);
                    }

                    @Override
                    public void visitVarInsn(int opcode, int var) {
                        flush();
                        super.visitVarInsn(opcode, var);
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        flush();
                        super.visitTypeInsn(opcode, type);
                    }

                    @Override
                    public void visitIntInsn(int opcode, int operand) {
                        flush();
                        super.visitIntInsn(opcode, operand);
                    }

                    @Override
                    public void visitJumpInsn(int opcode, org.objectweb.asm.Label label) {
                        flush();
                        super.visitJumpInsn(opcode, label);
                    }

                    @Override
                    public void visitLabel(org.objectweb.asm.Label label) {
                        flush();
                        super.visitLabel(label);
                    }

                    @Override
                    public void visitIincInsn(int var, int increment) {
                        flush();
                        super.visitIincInsn(var, increment);
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String name, String desc, org.objectweb.asm.Handle bsm,
                                                       Object... bsmArgs) {
                        flush();
                        super.visitInvokeDynamicInsn(name, desc, bsm, bsmArgs);
                    }

                    @Override
                    public void visitTableSwitchInsn(int min, int max, org.objectweb.asm.Label dflt,
                                                     org.objectweb.asm.Label... labels) {
                        flush();
                        super.visitTableSwitchInsn(min, max, dflt, labels);
                    }

                    @Override
                    public void visitLookupSwitchInsn(org.objectweb.asm.Label dflt, int[] keys, org.objectweb.asm.Label[] labels) {
                        flush();
                        super.visitLookupSwitchInsn(dflt, keys, labels);
                    }

                    @Override
                    public void visitMultiANewArrayInsn(String desc, int dims) {
                        flush();
                        super.visitMultiANewArrayInsn(desc, dims);
                    }

                    @Override
                    public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
                        flush();
                        super.visitFrame(type, numLocal, local, numStack, stack);
                    }

                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        flush();
                        super.visitMaxs(maxStack, maxLocals);
                    }
                };
            }
        }, 0);
        if (replaced[0] != 3) {
            throw new IllegalStateException("expected 3 version reads in Foreign's initialiser, found " + replaced[0]
                    + ": look at this jffi version's Foreign again");
        }
        Files.write(file, writer.toByteArray());
    }
}
