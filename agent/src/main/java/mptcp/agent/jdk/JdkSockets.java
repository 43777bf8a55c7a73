package mptcp.agent.jdk;

import java.io.FileDescriptor;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import mptcp.agent.policy.Connections;
import mptcp.agent.policy.Decisions;
import mptcp.agent.policy.Sockets;
import mptcp.sys.LibC;

/**
 * Handlers of the JDK's socket creation and connections (see {@link JdkModule}): same names and arguments as the JDK
 * methods they stand for; each runs the JDK's own method and applies the policy with the socket's int fd.
 */
public final class JdkSockets {
    private JdkSockets() {
    }

    /** {@code Net.socket0}: a new socket's fd ({@code reuse} is true for listeners). */
    public static int socket0(boolean preferIPv6, boolean stream, boolean reuse, boolean fastLoopback) throws Throwable {
        JdkModule.prepareOnce();
        if (stream && Sockets.wanted(reuse)) {
            // The JDK asks for AF_INET6 only when IPv6 is available and wanted, and then clears IPV6_V6ONLY
            // (dual stack, IPv4 being always available on Linux); listeners get SO_REUSEADDR. Same here.
            int fd = Sockets.create(preferIPv6 ? LibC.AF_INET6 : LibC.AF_INET, reuse);
            if (fd >= 0) {
                return fd;
            }
        }
        int fd = (int) JdkModule.SOCKET0.original().invokeExact(preferIPv6, stream, reuse, fastLoopback);
        Decisions.unknown(fd);
        return fd;
    }

    /** JDK 17's legacy {@code PlainSocketImpl.socketCreate(stream, isServer)}: made by the JDK, then swapped to MPTCP. */
    public static void socketCreate(Object impl, boolean stream, boolean server) throws Throwable {
        JdkModule.SOCKET_CREATE.original().invokeExact(impl, stream, server);
        Decisions.unknown(JdkFds.fdValOrMinus1(JdkFds.ofSocketImpl(impl))); // its options are set where the agent cannot see
        if (stream) {
            Sockets.convertFresh(JdkFds.fdVal(JdkFds.ofSocketImpl(impl)), server);
        }
    }

    /** {@code Net.connect0}: the rules decide by the destination (the socket may become TCP), then the JDK connects. */
    public static int connect0(boolean preferIPv6, FileDescriptor fd, InetAddress remote, int port) throws Throwable {
        if (Decisions.decidesConnect()) {
            rules(false, fd, remote, port);
        }
        int n = (int) JdkModule.CONNECT0.original().invokeExact(preferIPv6, fd, remote, port);
        if (n == 1) {
            established(fd, null);
        }
        return n;
    }

    /** {@code Net.bind0}: the rules decide by the local address and port, then the JDK binds. */
    public static void bind0(FileDescriptor fd, boolean preferIPv6, boolean useExclBind, InetAddress addr, int port)
            throws Throwable {
        if (Decisions.decidesBind()) {
            rules(true, fd, addr, port);
        }
        JdkModule.BIND0.original().invokeExact(fd, preferIPv6, useExclBind, addr, port);
        Decisions.touched(JdkFds.fdValOrMinus1(fd)); // bound: converted the full way from now on, keeping the address
    }

    /** The legacy {@code socketConnect(address, port, timeout)}: the rules, the JDK's connect, then the connection classified. */
    public static void socketConnect(Object impl, InetAddress address, int port, int timeout) throws Throwable {
        if (Decisions.decidesConnect()) {
            rules(false, JdkFds.ofSocketImpl(impl), address, port);
        }
        JdkModule.SOCKET_CONNECT.original().invokeExact(impl, address, port, timeout);
        established(JdkFds.ofSocketImpl(impl), null);
    }

    /** The legacy {@code socketBind(address, port)}: the rules, then the JDK's bind. */
    public static void socketBind(Object impl, InetAddress address, int port) throws Throwable {
        if (Decisions.decidesBind()) {
            rules(true, JdkFds.ofSocketImpl(impl), address, port);
        }
        JdkModule.SOCKET_BIND.original().invokeExact(impl, address, port);
    }

    /** The rules for {@code fd}'s bind or connect to {@code address}:{@code port}; allocates nothing. */
    private static void rules(boolean bind, FileDescriptor fd, InetAddress address, int port) {
        int s = JdkFds.fdValOrMinus1(fd);
        if (bind) {
            Decisions.beforeBind(s, address, port, Decisions.OWN);
        } else {
            Decisions.beforeConnect(s, address, port, Decisions.OWN);
        }
    }

    public static boolean pollConnect(FileDescriptor fd, long timeout) throws Throwable {
        boolean connected = (boolean) JdkModule.POLL_CONNECT.original().invokeExact(fd, timeout);
        if (connected) {
            established(fd, null);
        }
        return connected;
    }

    public static void checkConnect(int fd) throws Throwable {
        JdkModule.CHECK_CONNECT.original().invokeExact(fd);
        Connections.established(fd, -1);
    }

    /** JDK 17's legacy {@code PlainSocketImpl.socketAccept}: {@code accepted} receives the new connection. */
    public static void socketAccept(Object impl, java.net.SocketImpl accepted) throws Throwable {
        JdkModule.SOCKET_ACCEPT.original().invokeExact(impl, accepted);
        established(JdkFds.ofSocketImpl(accepted), JdkFds.ofSocketImpl(impl));
    }

    public static int accept(FileDescriptor fd, FileDescriptor newfd, InetSocketAddress[] isaa) throws Throwable {
        int n = (int) JdkModule.ACCEPT.original().invokeExact(fd, newfd, isaa);
        if (n == 1) {
            established(newfd, fd);
        }
        return n;
    }

    private static void established(FileDescriptor fd, FileDescriptor listener) {
        int v = JdkFds.fdValOrMinus1(fd);
        int l = listener == null ? -1 : JdkFds.fdValOrMinus1(listener);
        if (v >= 0 && (listener == null || l >= 0)) {
            Connections.established(v, l);
        }
    }
}
