package mptcp.agent;

import java.io.FileDescriptor;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Handlers of the connection redirects (see {@link Instrumenter}): they run the JDK's own call and then look at the
 * connection that was established. Today they only pass through.
 */
public final class Connections {
    private Connections() {
    }

    public static int connect0(boolean preferIPv6, FileDescriptor fd, InetAddress remote, int port) throws Throwable {
        return (int) Instrumenter.CONNECT0.original.invokeExact(preferIPv6, fd, remote, port);
    }

    public static boolean pollConnect(FileDescriptor fd, long timeout) throws Throwable {
        return (boolean) Instrumenter.POLL_CONNECT.original.invokeExact(fd, timeout);
    }

    public static void checkConnect(int fd) throws Throwable {
        Instrumenter.CHECK_CONNECT.original.invokeExact(fd);
    }

    public static int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws Throwable {
        return (int) Instrumenter.ACCEPT.original.invokeExact(fd, newfd, isaa);
    }
}
