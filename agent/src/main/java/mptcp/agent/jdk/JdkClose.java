package mptcp.agent.jdk;

import java.io.FileDescriptor;

import mptcp.agent.policy.Connections;

/**
 * Handlers of the JDK's socket close (see {@link JdkModule#closeRedirects}): the per-path accounting reads a
 * connection's last figures from the kernel before the JDK's own {@code preClose0} (which dup2's a dead socket onto
 * the fd while other threads may still be blocked on it) or {@code close0} (whichever comes first) makes the
 * connection unreachable. Same names and arguments as the JDK's natives.
 */
public final class JdkClose {
    private JdkClose() {
    }

    /** JDK 17-20 {@code FileDispatcherImpl.preClose0}, JDK 21+ {@code UnixDispatcher.preClose0}. */
    public static void preClose0(FileDescriptor fd) throws Throwable {
        Connections.closing(JdkFds.fdValOrMinus1(fd));
        JdkModule.PRE_CLOSE0.original().invokeExact(fd);
    }

    /** JDK 17-20 {@code FileDispatcherImpl.close0}, JDK 21+ {@code UnixDispatcher.close0}. */
    public static void close0(FileDescriptor fd) throws Throwable {
        Connections.closing(JdkFds.fdValOrMinus1(fd));
        JdkModule.CLOSE0.original().invokeExact(fd);
    }
}
