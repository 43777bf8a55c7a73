package mptcp.agent.jdk;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.invoke.MethodType;
import java.nio.channels.Channel;

import mptcp.agent.engine.Privileged;

/**
 * The one place where agent code reaches the int file descriptor behind the JDK's objects (java.base opens java.io,
 * java.net and sun.nio.ch to the agent at install): the {@code fd} field of a {@code FileDescriptor} (what
 * {@code IOUtil.fdVal} and {@code IOUtil.newFD} read and write, through a VarHandle, whose first use spins no lambda
 * form, unlike a method handle of the same natives), {@code SelChImpl.getFDVal} and the {@code fd} field of a legacy
 * {@code SocketImpl}.
 */
public final class JdkFds {
    private static final VarHandle FD;
    private static volatile MethodHandle channelFd;

    static {
        try { // the first socket's thread, an application's: see Privileged
            FD = securityManager() ? Privileged.run(JdkFds::fdHandle) : fdHandle();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Whether a security manager is installed (JDK 17-23 only): then look-ups run privileged (see Privileged). */
    @SuppressWarnings("removal")
    private static boolean securityManager() {
        return System.getSecurityManager() != null;
    }

    private static VarHandle fdHandle() throws ReflectiveOperationException {
        return MethodHandles.privateLookupIn(FileDescriptor.class, MethodHandles.lookup())
                .findVarHandle(FileDescriptor.class, "fd", int.class);
    }

    private JdkFds() {
    }

    /** The int fd of a JDK FileDescriptor. */
    static int fdVal(FileDescriptor fd) throws Throwable {
        return (int) FD.get(fd);
    }

    /** The int fd of a JDK FileDescriptor, or -1 if it cannot be read. */
    static int fdValOrMinus1(FileDescriptor fd) {
        try {
            return fdVal(fd);
        } catch (Throwable t) {
            return -1;
        }
    }

    private static volatile MethodHandle implFd;

    /** The FileDescriptor of a {@code java.net.SocketImpl} (its protected field {@code fd}; java.net is open to the agent). */
    static FileDescriptor ofSocketImpl(Object impl) throws Throwable {
        MethodHandle h = implFd;
        if (h == null) {
            h = securityManager() ? Privileged.run(JdkFds::implFdHandle) : implFdHandle();
            implFd = h;
        }
        return (FileDescriptor) h.invokeExact(impl);
    }

    private static MethodHandle implFdHandle() throws ReflectiveOperationException {
        return MethodHandles.privateLookupIn(java.net.SocketImpl.class, MethodHandles.lookup())
                .findGetter(java.net.SocketImpl.class, "fd", FileDescriptor.class)
                .asType(MethodType.methodType(FileDescriptor.class, Object.class));
    }

    /** A JDK FileDescriptor holding {@code fd}. */
    static FileDescriptor newFD(int fd) throws Throwable {
        FileDescriptor d = new FileDescriptor();
        FD.set(d, fd);
        return d;
    }

    /** The fd of a SocketChannel or ServerSocketChannel of the JDK's default provider. */
    public static int fd(Channel channel) {
        try {
            MethodHandle h = channelFd;
            if (h == null) {
                h = securityManager() ? Privileged.run(JdkFds::channelFdHandle) : channelFdHandle();
                channelFd = h;
            }
            return (int) h.invoke(channel);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the fd of " + channel, t);
        }
    }

    private static MethodHandle channelFdHandle() throws ReflectiveOperationException {
        Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl", false, null);
        return MethodHandles.privateLookupIn(selCh, MethodHandles.lookup())
                .findVirtual(selCh, "getFDVal", MethodType.methodType(int.class));
    }
}
