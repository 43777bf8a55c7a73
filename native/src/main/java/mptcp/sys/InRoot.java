package mptcp.sys;

import java.nio.charset.StandardCharsets;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;

/**
 * What the command line needs to reach into another process's mount namespace (a container) without ever being led
 * out of it, and to signal exactly the process it checked: {@code openat2} with {@code RESOLVE_IN_ROOT} (Linux 5.6+,
 * the same floor as MPTCP), where the directory given is the root and absolute symbolic links, {@code ..} and
 * {@code /proc} magic links cannot leave it; and pidfds ({@code pidfd_open}, {@code pidfd_send_signal}, Linux 5.3+),
 * so that a signal can never reach a process that took over a pid meanwhile.
 *
 * <p>Only {@code O_PATH} descriptors are made here: the caller reaches the file itself through
 * {@code /proc/self/fd/<fd>}, a link to exactly that inode whatever happens to the names around it (and creates new
 * names through {@code /proc/self/fd/<dirfd>/name}, which never follows a link in the last component). Not on any hot
 * path: bound with jnr-ffi on first use (the command line only). Each call returns a non-negative result or
 * {@code -errno}, never throws for a failed call.
 */
public final class InRoot {
    /** RESOLVE_* of struct open_how (include/uapi/linux/openat2.h). */
    public static final int RESOLVE_NO_XDEV = 0x01;
    public static final int RESOLVE_NO_MAGICLINKS = 0x02;
    public static final int RESOLVE_NO_SYMLINKS = 0x04;
    public static final int RESOLVE_IN_ROOT = 0x10;
    public static final int SIGQUIT = 3;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int ELOOP = 40;
    public static final int ENOSYS = 38;
    private static final int AT_FDCWD = -100;
    private static final long O_PATH = 010000000;
    private static final long O_CLOEXEC = 02000000;
    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_OPENAT2 = 437; // the same number on x86_64 and aarch64 (unified table since 5.1)

    private InRoot() {
    }

    /** The libc calls, jnr-ffi mapped; syscall() takes the numbers above (no glibc wrapper needed). */
    public interface Api {
        long syscall(long number, int dirFd, @In byte[] path, @In byte[] how, long size);

        long syscall(long number, int pid, int flags);

        long syscall(long number, int pidFd, int signal, long info, int flags);

        int close(int fd);
    }

    private static final class Bound {
        static final Api C;

        static {
            Sock.load(); // same jffi set-up as the socket primitives
            C = LibraryLoader.create(Api.class).load("c");
        }
    }

    private static int result(long rc) {
        return rc < 0 ? -Sock.errno() : (int) rc;
    }

    /**
     * An {@code O_PATH|O_CLOEXEC} descriptor of {@code path}: absolute (then {@code dirFd} is ignored) or relative to
     * {@code dirFd}, resolved with {@code resolve} (RESOLVE_* flags).
     * @return the fd, or -errno (ENOSYS before Linux 5.6)
     */
    public static int openPath(int dirFd, String path, int resolve) {
        byte[] name = (path + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] how = new byte[24]; // struct open_how {u64 flags; u64 mode; u64 resolve;}, little-endian (x86_64, aarch64)
        put(how, 0, O_PATH | O_CLOEXEC);
        put(how, 16, resolve);
        return result(Bound.C.syscall(SYS_OPENAT2, path.startsWith("/") ? AT_FDCWD : dirFd, name, how, how.length));
    }

    private static void put(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    /** @return 0 or -errno */
    public static int close(int fd) {
        return Bound.C.close(fd) < 0 ? -Sock.errno() : 0;
    }

    /** A pidfd of process {@code pid} (of this command's pid namespace); -errno (ESRCH: gone). */
    public static int pidfd(long pid) {
        return result(Bound.C.syscall(SYS_PIDFD_OPEN, (int) pid, 0));
    }

    /** Sends {@code signal} to the process of {@code pidFd}; 0 or -errno (ESRCH: it has exited). */
    public static int signal(int pidFd, int signal) {
        return result(Bound.C.syscall(SYS_PIDFD_SEND_SIGNAL, pidFd, signal, 0L, 0));
    }
}
