package mptcp.agent.jdk;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

import mptcp.agent.policy.Connections;
import mptcp.agent.policy.Decisions;
import mptcp.agent.policy.FixedPorts;
import mptcp.agent.policy.Races;
import mptcp.agent.policy.Sockets;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Handlers of the JDK's socket creation and connections (see {@link JdkModule}): same names and arguments as the JDK
 * methods they stand for; each runs the JDK's own method and applies the policy with the socket's int fd.
 *
 * <p>The connect race ({@link Races}) in the JDK's shapes: {@code connect0} registers the connect; every JDK path then
 * ends in one of the calls here when it looks at the outcome — a blocking {@code connect0} returning or failing (the
 * race thread's shutdown of the MPTCP attempt wakes it), {@code pollConnect} (a timed {@code Socket.connect},
 * {@code SocketChannel.finishConnect} after the selector reported the channel, a virtual thread's poll), the
 * asynchronous channels' {@code checkConnect} — and there the race's outcome is put under the fd. The JDK's own
 * loops, locks, timeouts and close handling stay as they are.
 */
public final class JdkSockets {
    /** sun.nio.ch.IOStatus.UNAVAILABLE: a connect under way (the JDK then polls for its end). */
    private static final int UNAVAILABLE = -2;

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
        int s = JdkFds.fdValOrMinus1(JdkFds.ofSocketImpl(impl));
        Decisions.unknown(s); // its options are set where the agent cannot see
        if (stream) {
            Sockets.convertFresh(JdkFds.fdVal(JdkFds.ofSocketImpl(impl)), server);
        }
    }

    /**
     * {@code Net.connect0}: the rules decide by the destination (the socket may become TCP), a destination remembered
     * as dropping MPTCP makes it TCP too, the connect is registered for the race, then the JDK connects. A blocking
     * connect whose race plain TCP won returns connected; one whose MPTCP attempt was abandoned returns "under way"
     * (the JDK then polls for the plain TCP attempt, as for a non-blocking connect).
     */
    public static int connect0(boolean preferIPv6, FileDescriptor fd, InetAddress remote, int port) throws Throwable {
        int s = JdkFds.fdValOrMinus1(fd);
        if (Decisions.decidesConnect() && s >= 0) {
            Decisions.beforeConnect(s, remote, port, Decisions.OWN);
        }
        java.lang.invoke.MethodHandle connect = JdkModule.CONNECT0.original(); // looked up before the race's clock starts
        boolean raced = !Decisions.keptTcp(s) && Races.beforeConnect(s, remote, port, Decisions.OWN);
        int n;
        try {
            n = (int) connect.invokeExact(preferIPv6, fd, remote, port);
        } catch (Throwable e) {
            int t = raced ? Races.afterFinish(s, false, true) : Races.NONE;
            if (t == Races.NONE) {
                throw e;
            }
            return connected(t, fd);
        }
        if (n == 1) {
            int t = raced ? Races.afterFinish(s, true, false) : Races.NONE;
            if (t != Races.NONE) {
                return connected(t, fd);
            }
            established(fd, null);
        }
        return n;
    }

    /** What a race's outcome makes of a connect: 1 (connected), {@link #UNAVAILABLE} (under way), or the failure. */
    private static int connected(int outcome, FileDescriptor fd) throws IOException {
        if (outcome < 0) {
            throw failure(-outcome);
        }
        if (outcome == Races.CONNECTING) {
            return UNAVAILABLE;
        }
        established(fd, null);
        return 1;
    }

    /** The exception the JDK's own natives throw for a connect failing with {@code errno} (Net.c's handleSocketError). */
    static IOException failure(int errno) {
        String text = Sock.strerror(errno);
        String message = text != null ? text : "errno " + errno;
        switch (errno) {
            case Errno.ECONNREFUSED:
            case Errno.ETIMEDOUT:
                return new ConnectException(message);
            case Errno.EHOSTUNREACH:
                return new NoRouteToHostException(message);
            default:
                return new SocketException(message);
        }
    }

    /** {@code Net.bind0}: the rules decide by the local address and port, then the JDK binds. */
    public static void bind0(FileDescriptor fd, boolean preferIPv6, boolean useExclBind, InetAddress addr, int port)
            throws Throwable {
        if (Decisions.decidesBind()) {
            bindRules(fd, addr, port);
        }
        JdkModule.BIND0.original().invokeExact(fd, preferIPv6, useExclBind, addr, port);
        int s = JdkFds.fdValOrMinus1(fd);
        Decisions.touched(s); // bound: converted the full way from now on, keeping the address
        if (port != 0) {
            FixedPorts.bound(s); // a source port of its own: a race would have to use another one
        }
    }

    /**
     * The legacy {@code socketConnect(address, port, timeout)}: the rules, the race's registration, the JDK's connect
     * (blocking, with its own timeout), the race's outcome, then the connection classified.
     */
    public static void socketConnect(Object impl, InetAddress address, int port, int timeout) throws Throwable {
        FileDescriptor fd = JdkFds.ofSocketImpl(impl);
        int s = JdkFds.fdValOrMinus1(fd);
        if (Decisions.decidesConnect() && s >= 0) {
            Decisions.beforeConnect(s, address, port, Decisions.OWN);
        }
        java.lang.invoke.MethodHandle connect = JdkModule.SOCKET_CONNECT.original();
        boolean raced = !Decisions.keptTcp(s) && Races.beforeConnect(s, address, port, Decisions.OWN);
        long start = System.nanoTime();
        int t;
        try {
            connect.invokeExact(impl, address, port, timeout);
            t = raced ? Races.afterFinish(s, true, false) : Races.NONE;
        } catch (Throwable e) {
            t = raced ? Races.afterFinish(s, false, true) : Races.NONE;
            if (t == Races.NONE) {
                throw e;
            }
        }
        if (t == Races.CONNECTING) { // the plain TCP attempt, now under fd: waited for here, within the timeout
            long left = timeout <= 0 ? -1 : timeout - (System.nanoTime() - start) / 1_000_000L;
            int rc = left == 0 ? -Errno.ETIMEDOUT : Races.awaitConnect(s, left < 0 ? -1 : (int) Math.max(1, left));
            t = rc == 0 ? Races.afterFinish(s, true, false) : Races.afterFinish(s, false, true);
            if (rc == -Errno.ETIMEDOUT && timeout > 0) {
                throw new SocketTimeoutException("connect timed out");
            }
            if (rc < 0) {
                throw failure(-rc);
            }
        }
        if (t < 0) {
            throw failure(-t);
        }
        established(fd, null);
    }

    /** The legacy {@code socketBind(address, port)}: the rules, then the JDK's bind. */
    public static void socketBind(Object impl, InetAddress address, int port) throws Throwable {
        if (Decisions.decidesBind()) {
            bindRules(JdkFds.ofSocketImpl(impl), address, port);
        }
        JdkModule.SOCKET_BIND.original().invokeExact(impl, address, port);
        if (port != 0) {
            FixedPorts.bound(JdkFds.fdValOrMinus1(JdkFds.ofSocketImpl(impl)));
        }
    }

    /** The rules for {@code fd}'s bind to {@code address}:{@code port}; allocates nothing. */
    private static void bindRules(FileDescriptor fd, InetAddress address, int port) {
        Decisions.beforeBind(JdkFds.fdValOrMinus1(fd), address, port, Decisions.OWN);
    }

    /**
     * {@code Net.pollConnect}: whether a connect under way completed. A race decided meanwhile puts its outcome under
     * the fd first; the JDK's answer about a stopped MPTCP attempt is replaced by the race's.
     */
    public static boolean pollConnect(FileDescriptor fd, long timeout) throws Throwable {
        int s = JdkFds.fdValOrMinus1(fd);
        for (int round = 0; ; round++) {
            int t = Races.beforeFinish(s);
            if (t == Races.CONNECTED) {
                established(fd, null);
                return true;
            }
            if (t < 0) {
                throw failure(-t);
            }
            boolean connected;
            try {
                connected = (boolean) JdkModule.POLL_CONNECT.original().invokeExact(fd, timeout);
            } catch (Throwable e) {
                t = Races.afterFinish(s, false, true);
                if (t == Races.NONE) {
                    throw e;
                }
                if (t != Races.CONNECTING || round > 0) {
                    return connected(t, fd) == 1;
                }
                continue; // the plain TCP attempt is under fd now: ask it
            }
            t = Races.afterFinish(s, connected, false);
            if (t == Races.NONE) {
                if (connected) {
                    established(fd, null);
                }
                return connected;
            }
            if (t != Races.CONNECTING || round > 0) {
                return connected(t, fd) == 1;
            }
        }
    }

    /**
     * The asynchronous channels' {@code checkConnect}, called when the channel's port saw the connect end. A race's
     * plain TCP attempt still under way when it takes the fd over is waited for here (this thread is the one that
     * completes the connect).
     */
    public static void checkConnect(int fd) throws Throwable {
        for (;;) {
            int t = Races.beforeFinish(fd);
            if (t == Races.CONNECTED) {
                Connections.established(fd, -1);
                return;
            }
            if (t < 0) {
                throw failure(-t);
            }
            if (t == Races.CONNECTING) {
                Races.awaitConnect(fd, -1);
            }
            try {
                JdkModule.CHECK_CONNECT.original().invokeExact(fd);
            } catch (Throwable e) {
                t = Races.afterFinish(fd, false, true);
                if (t == Races.NONE) {
                    throw e;
                }
                if (t == Races.CONNECTING) {
                    continue;
                }
                connectedOrThrow(t, fd);
                return;
            }
            t = Races.afterFinish(fd, true, false);
            if (t == Races.CONNECTING) {
                continue;
            }
            connectedOrThrow(t, fd);
            return;
        }
    }

    private static void connectedOrThrow(int outcome, int fd) throws IOException {
        if (outcome < 0) {
            throw failure(-outcome);
        }
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
