package mptcp.agent.engine;

/**
 * What a class file taken from the {@link TransformCache} must be before the JVM is given it, checked without ASM (a
 * warm start never loads ASM): the whole class-file structure read through to its last byte (constant pool, fields,
 * methods, attributes), the class-file version the engine made it with, the name asked for, and a reference to the
 * trampoline (a JDK class the engine did not rewrite would leave its sockets silently TCP). An entry that fails is one
 * the JVM would refuse (a {@code ClassFormatError} or {@code UnsupportedClassVersionError} thrown to the application
 * loading {@code sun.nio.ch.Net}), or the wrong class: it is rewritten instead.
 *
 * <p>The checksum of an entry already catches damage; this catches a file with a good checksum and the wrong content
 * (another class, garbage, a newer class-file version) that a bug or a confused writer of the same uid left. It does
 * not verify bytecode: whoever can write the private directory runs as the application's own uid.
 */
final class ClassCheck {
    private ClassCheck() {
    }

    /**
     * Null when {@code b} is a well-formed class file of version {@code major} named {@code name} (internal form) whose
     * constant pool holds the name {@code reference} (unless null); else what is wrong.
     */
    static String problem(byte[] b, String name, int major, String reference) {
        try {
            if (b.length < 10 || u2(b, 0) != 0xCAFE || u2(b, 2) != 0xBABE) {
                return "not a class file";
            }
            int version = u2(b, 6);
            if (version != major) {
                return "class-file version " + version + ", not " + major;
            }
            int count = u2(b, 8);
            int[] info = new int[count]; // where each constant's content starts (after its tag)
            byte[] tags = new byte[count];
            boolean referenced = reference == null;
            int at = 10;
            for (int i = 1; i < count; i++) {
                int tag = b[at] & 0xFF;
                tags[i] = (byte) tag;
                info[i] = at + 1;
                switch (tag) {
                    case 1: // Utf8
                        int length = u2(b, at + 1);
                        referenced = referenced || is(b, at + 3, length, reference);
                        at += 3 + length;
                        break;
                    case 7: case 8: case 16: case 19: case 20: // Class, String, MethodType, Module, Package
                        at += 3;
                        break;
                    case 15: // MethodHandle
                        at += 4;
                        break;
                    case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18:
                        at += 5;
                        break;
                    case 5: case 6: // Long, Double: two slots
                        at += 9;
                        i++;
                        break;
                    default:
                        return "constant " + i + " has the unknown tag " + tag;
                }
            }
            int self = u2(b, at + 2);
            if (self <= 0 || self >= count || tags[self] != 7 || tags[u2(b, info[self])] != 1
                    || !is(b, info[u2(b, info[self])] + 2, u2(b, info[u2(b, info[self])]), name)) {
                return "not class " + name;
            }
            at += 6;
            at += 2 + 2 * u2(b, at); // interfaces
            for (int members = 0; members < 2; members++) { // fields, then methods
                int n = u2(b, at);
                at += 2;
                for (int j = 0; j < n; j++) {
                    at = attributes(b, at + 6);
                }
            }
            at = attributes(b, at);
            if (at != b.length) {
                return "malformed (" + (b.length - at) + " bytes after the class)";
            }
            return referenced ? null : "does not refer to " + reference + ": not rewritten";
        } catch (ArrayIndexOutOfBoundsException e) {
            return "truncated";
        }
    }

    /** Skips the attributes table at {@code at}; where it ends. */
    private static int attributes(byte[] b, int at) {
        int n = u2(b, at);
        at += 2;
        for (int i = 0; i < n; i++) {
            long length = (long) u2(b, at + 2) << 16 | u2(b, at + 4);
            if (at + 6 + length > b.length) {
                throw new ArrayIndexOutOfBoundsException();
            }
            at += 6 + (int) length;
        }
        return at;
    }

    private static int u2(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    /** Whether the {@code length} bytes at {@code at} are the ASCII string {@code s}. */
    private static boolean is(byte[] b, int at, int length, String s) {
        if (s == null || length != s.length() || at + length > b.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
