import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** Rewrites the call sites of Net.socket0 inside sun.nio.ch.Net into Handlers.socket0, with ASM (what the agent does). */
public final class RewriteAsm {
    public static void main(String[] args) throws Exception {
        byte[] in = Bytes.net();
        ClassReader reader = new ClassReader(in);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        int[] count = {0};
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] ex) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, sig, ex)) {
                    @Override
                    public void visitMethodInsn(int op, String owner, String method, String mdesc, boolean itf) {
                        if (op == Opcodes.INVOKESTATIC && owner.equals("sun/nio/ch/Net") && method.equals("socket0")) {
                            count[0]++;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, "Handlers", method, mdesc, false);
                            return;
                        }
                        super.visitMethodInsn(op, owner, method, mdesc, itf);
                    }
                };
            }
        }, 0);
        byte[] out = writer.toByteArray();
        System.out.println("asm " + in.length + " -> " + out.length + " bytes, " + count[0] + " call sites, calls Handlers: " + new String(out, java.nio.charset.StandardCharsets.ISO_8859_1).contains("Handlers"));
    }
}
