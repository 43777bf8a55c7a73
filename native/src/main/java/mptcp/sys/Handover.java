package mptcp.sys;

import com.kenai.jffi.MemoryIO;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;

/**
 * The primitives for handing a live listening socket over to a new one under the same fd number (attach converting
 * existing listeners): bind/listen with a raw sockaddr, dup3, a classic BPF program steering a reuseport group,
 * tgkill (epoll_ctl, which converting a socket by a rule needs too, is {@link Sock#epollCtl}). Not on any hot path: bound with jnr-ffi on first use. Each returns a non-negative result or
 * {@code -errno}, never throws for a failed call.
 */
public final class Handover {
    public static final int O_CLOEXEC = 0x80000;
    public static final int SO_BINDTODEVICE = 25;
    public static final int SO_ATTACH_REUSEPORT_CBPF = 51;
    public static final int SO_DETACH_REUSEPORT_BPF = 68;
    /** The signal the JDK's NativeThread uses to interrupt a blocking call (SIGRTMAX - 2, glibc numbering). */
    public static final int JDK_INTERRUPT_SIGNAL = 64 - 2;

    private Handover() {
    }

    /** The libc calls, jnr-ffi mapped. */
    public interface Api {
        int dup3(int oldFd, int newFd, int flags);

        int bind(int fd, @In byte[] address, int length);

        int listen(int fd, int backlog);

        /** {@code value}: the address of native memory (jffi's, not jnr-ffi's: no finalizer thread in the target JVM). */
        int setsockopt(int fd, int level, int name, long value, int length);

        int setsockopt(int fd, int level, int name, @In byte[] value, int length);

        int tgkill(int tgid, int tid, int signal);

        int getpid();

        int fcntl(int fd, int cmd, int arg);
    }

    private static final class Bound {
        static final Api C;
        static final MemoryIO MEMORY;

        static {
            Sock.load(); // same jffi set-up (private stub directory, properties) as the socket primitives
            C = LibraryLoader.create(Api.class).load("c");
            MEMORY = MemoryIO.getInstance();
        }
    }

    private static int result(int rc) {
        return rc < 0 ? -Sock.errno() : rc;
    }

    /** FD_CLOEXEC and the other fd flags (F_GETFD), or -errno. */
    public static int fdFlags(int fd) {
        return result(Bound.C.fcntl(fd, LibC.F_GETFD, 0));
    }

    /** Sets the file status flags (F_SETFL: O_NONBLOCK, ...); 0 or -errno. */
    public static int setStatusFlags(int fd, int flags) {
        return result(Bound.C.fcntl(fd, LibC.F_SETFL, flags));
    }

    /**
     * Makes {@code newFd} refer to {@code oldFd}'s open file, atomically replacing what {@code newFd} referred to.
     * @param cloexec FD_CLOEXEC on {@code newFd} afterwards
     * @return 0 or -errno
     */
    public static int dup3(int oldFd, int newFd, boolean cloexec) {
        int rc = Bound.C.dup3(oldFd, newFd, cloexec ? O_CLOEXEC : 0);
        return rc < 0 ? -Sock.errno() : 0;
    }

    /** bind(2) with a raw sockaddr as returned by {@link Sock#address}; 0 or -errno. */
    public static int bind(int fd, byte[] sockaddr, int length) {
        return result(Bound.C.bind(fd, sockaddr, length));
    }

    /** @return 0 or -errno */
    public static int listen(int fd, int backlog) {
        return result(Bound.C.listen(fd, backlog));
    }

    /** setsockopt with a byte buffer (SO_LINGER, SO_BINDTODEVICE, ...); 0 or -errno. */
    public static int setBytes(int fd, int level, int name, byte[] value, int length) {
        return result(Bound.C.setsockopt(fd, level, name, value, length));
    }

    /**
     * Attaches to the reuseport group of {@code fd} the classic BPF program {@code ret index}: every new connection
     * request for the group goes to its member number {@code index} (an index past the last member lets the kernel
     * pick by hash). {@code fd} must be a TCP socket of the group (the kernel refuses it through an MPTCP socket).
     * @return 0 or -errno
     */
    public static int steerReuseport(int fd, int index) {
        MemoryIO m = Bound.MEMORY;
        long filter = m.allocateMemory(8 + 16, true); // struct sock_filter {u16 code; u8 jt, jf; u32 k}, then sock_fprog
        if (filter == 0) {
            return -12; // ENOMEM
        }
        try {
            m.putShort(filter, (short) 0x06); // BPF_RET | BPF_K
            m.putInt(filter + 4, index);
            long program = filter + 8; // struct sock_fprog {u16 len; struct sock_filter *filter}
            m.putShort(program, (short) 1);
            m.putAddress(program + 8, filter);
            return result(Bound.C.setsockopt(fd, LibC.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, program, 16));
        } finally {
            m.freeMemory(filter);
        }
    }

    /** Removes the reuseport group's BPF program (Linux 5.3+); 0 or -errno. */
    public static int unsteerReuseport(int fd) {
        return result(Bound.C.setsockopt(fd, LibC.SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, new byte[4], 4));
    }

    /** Sends {@code signal} to thread {@code tid} of this process; 0 or -errno. */
    public static int signalThread(int tid, int signal) {
        return result(Bound.C.tgkill(Bound.C.getpid(), tid, signal));
    }
}
