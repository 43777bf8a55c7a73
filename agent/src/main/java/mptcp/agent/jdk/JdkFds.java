package mptcp.agent.jdk;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.Channel;

/**
 * The one place where agent code reaches the int file descriptor behind the JDK's objects (java.base opens
 * sun.nio.ch to the agent at install): {@code IOUtil.fdVal}, {@code IOUtil.newFD}, {@code SelChImpl.getFDVal} and
 * the {@code fd} field of a legacy {@code SocketImpl}.
 */
public final class JdkFds {
    private static final MethodHandle FD_VAL;
    private static final MethodHandle NEW_FD;
    private static volatile MethodHandle channelFd;

    static {
        try {
            Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil", false, null);
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(ioUtil, MethodHandles.lookup());
            FD_VAL = lookup.findStatic(ioUtil, "fdVal", MethodType.methodType(int.class, FileDescriptor.class));
            NEW_FD = lookup.findStatic(ioUtil, "newFD", MethodType.methodType(FileDescriptor.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private JdkFds() {
    }

    /** The int fd of a JDK FileDescriptor. */
    static int fdVal(FileDescriptor fd) throws Throwable {
        return (int) FD_VAL.invokeExact(fd);
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
            h = MethodHandles.privateLookupIn(java.net.SocketImpl.class, MethodHandles.lookup())
                    .findGetter(java.net.SocketImpl.class, "fd", FileDescriptor.class)
                    .asType(MethodType.methodType(FileDescriptor.class, Object.class));
            implFd = h;
        }
        return (FileDescriptor) h.invokeExact(impl);
    }

    /** A JDK FileDescriptor holding {@code fd}. */
    static FileDescriptor newFD(int fd) throws Throwable {
        return (FileDescriptor) NEW_FD.invokeExact(fd);
    }

    /** The fd of a SocketChannel or ServerSocketChannel of the JDK's default provider. */
    public static int fd(Channel channel) {
        try {
            MethodHandle h = channelFd;
            if (h == null) {
                Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl", false, null);
                h = MethodHandles.privateLookupIn(selCh, MethodHandles.lookup())
                        .findVirtual(selCh, "getFDVal", MethodType.methodType(int.class));
                channelFd = h;
            }
            return (int) h.invoke(channel);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the fd of " + channel, t);
        }
    }
}
