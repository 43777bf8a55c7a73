package mptcp.it.apps;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Makes the kernel refuse MPTCP sockets to this process with EPERM, the way a security policy would: a seccomp filter
 * (x86_64) on every thread, now and later, that fails {@code socket(*, *, IPPROTO_MPTCP)} with EPERM and allows
 * everything else. Installed through the app's own jnr-ffi, before the app makes any socket.
 */
public final class Seccomp {
    /** prctl(2) and syscall(2), the two calls needed. */
    public interface C {
        int prctl(int option, long a2, long a3, long a4, long a5);

        long syscall(long number, long a1, long a2, Pointer a3);
    }

    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final long SYS_SECCOMP = 317;
    private static final long SECCOMP_SET_MODE_FILTER = 1;
    private static final long SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int NR_SOCKET = 41;
    private static final int IPPROTO_MPTCP = 262;
    private static final int EPERM = 1;

    private Seccomp() {
    }

    public static void denyMptcpSockets() {
        C c = LibraryLoader.create(C.class).load("c");
        Runtime runtime = Runtime.getRuntime(c);
        // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}: on socket() with protocol (args[2]) 262: EPERM
        if (!"amd64".equals(System.getProperty("os.arch"))) {
            throw new IllegalStateException("the seccomp filter is written for x86_64, not " + System.getProperty("os.arch"));
        }
        int[][] program = {
            {0x20, 0, 0, 4},                        // A = seccomp_data.arch
            {0x15, 0, 5, 0xC000003E},               // if A != AUDIT_ARCH_X86_64 goto allow
            {0x20, 0, 0, 0},                        // A = seccomp_data.nr
            {0x15, 0, 3, NR_SOCKET},                // if A != socket goto allow
            {0x20, 0, 0, 32},                       // A = low 32 bits of args[2] (offset 16 + 2 * 8)
            {0x15, 0, 1, IPPROTO_MPTCP},            // if A != 262 goto allow
            {0x06, 0, 0, 0x00050000 | EPERM},       // return SECCOMP_RET_ERRNO | EPERM
            {0x06, 0, 0, 0x7fff0000},               // allow: return SECCOMP_RET_ALLOW
        };
        Pointer filter = Memory.allocateDirect(runtime, program.length * 8);
        for (int i = 0; i < program.length; i++) {
            filter.putShort(i * 8L, (short) program[i][0]);
            filter.putByte(i * 8L + 2, (byte) program[i][1]);
            filter.putByte(i * 8L + 3, (byte) program[i][2]);
            filter.putInt(i * 8L + 4, program[i][3]);
        }
        Pointer fprog = Memory.allocateDirect(runtime, 16); // struct sock_fprog {u16 len; struct sock_filter *filter}
        fprog.putShort(0, (short) program.length);
        fprog.putPointer(8, filter);
        if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS) failed");
        }
        long rc = c.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog);
        if (rc != 0) {
            throw new IllegalStateException("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) returned " + rc);
        }
    }
}
