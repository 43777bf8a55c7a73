package mptcp.agent.netty;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/** Small ASM helpers shared by the rewrites of this package. */
final class Asm {
    private Asm() {
    }

    /** A method argument's type as a stack map frame entry. */
    static Object frameType(Type t) {
        switch (t.getSort()) {
            case Type.BOOLEAN:
            case Type.BYTE:
            case Type.CHAR:
            case Type.SHORT:
            case Type.INT:
                return Opcodes.INTEGER;
            case Type.LONG:
                return Opcodes.LONG;
            case Type.FLOAT:
                return Opcodes.FLOAT;
            case Type.DOUBLE:
                return Opcodes.DOUBLE;
            default:
                return t.getInternalName();
        }
    }

    /** The local variable slot of the first argument of type {@code type} in a non-static method's {@code desc}, or -1. */
    static int slotOf(String desc, String type) {
        int slot = 1;
        for (Type t : Type.getArgumentTypes(desc)) {
            if (t.getDescriptor().equals(type)) {
                return slot;
            }
            slot += t.getSize();
        }
        return -1;
    }

    /**
     * Whether the class has the method: not native; static or not as {@code statik} says (null: either);
     * {@code desc} null: any descriptor.
     */
    static boolean has(ClassReader reader, String method, String desc, Boolean statik) {
        boolean[] found = {false};
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String d, String signature, String[] exceptions) {
                if (method.equals(name) && (desc == null || desc.equals(d)) && (access & Opcodes.ACC_NATIVE) == 0
                        && (statik == null || ((access & Opcodes.ACC_STATIC) != 0) == statik)) {
                    found[0] = true;
                }
                return null;
            }
        }, ClassReader.SKIP_CODE);
        return found[0];
    }
}
