package mptcp.agent.jdk;

import java.io.FileDescriptor;
import java.io.IOException;

import mptcp.agent.policy.Decisions;
import mptcp.agent.policy.SocketOptions;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Handlers of the JDK's socket options and urgent data (see {@link JdkModule}): the JDK's own call runs first; only
 * when it fails does {@link SocketOptions} decide (equivalent, retry on the socket made TCP, emulate, or the error).
 * A value that could not be read on MPTCP is answered with a fresh TCP socket's value.
 */
public final class JdkOptions {
    private static final int DONT_FRAGMENT = SocketOptions.DONT_FRAGMENT;

    private JdkOptions() {
    }

    public static void setIntOption0(FileDescriptor fd, boolean mayNeedConversion, int level, int opt, int arg,
                                     boolean isIPv6) throws Throwable {
        Decisions.touched(JdkFds.fdValOrMinus1(fd));
        try {
            JdkModule.SET_INT_OPTION0.original().invokeExact(fd, mayNeedConversion, level, opt, arg, isIPv6);
        } catch (IOException e) {
            switch (SocketOptions.afterSetFailed(JdkFds.fdVal(fd), level, opt, arg, e.getMessage())) {
                case SocketOptions.RETRY:
                    JdkModule.SET_INT_OPTION0.original().invokeExact(fd, mayNeedConversion, level, opt, arg, isIPv6);
                    return;
                case SocketOptions.DONE:
                    return;
                default:
                    throw e;
            }
        }
    }

    public static int getIntOption0(FileDescriptor fd, boolean mayNeedConversion, int level, int opt) throws Throwable {
        Integer remembered = SocketOptions.remembered(JdkFds.fdVal(fd), level, opt);
        if (remembered != null) {
            return remembered;
        }
        try {
            return (int) JdkModule.GET_INT_OPTION0.original().invokeExact(fd, mayNeedConversion, level, opt);
        } catch (IOException e) {
            int s = JdkFds.fdVal(fd);
            int v = SocketOptions.afterGetFailed(s, level, opt);
            if (v >= 0) {
                return v;
            }
            int tmp = v == -1 ? SocketOptions.freshTcp(s) : -1;
            if (tmp < 0) {
                throw e;
            }
            try {
                v = (int) JdkModule.GET_INT_OPTION0.original().invokeExact(JdkFds.newFD(tmp), mayNeedConversion, level, opt);
                SocketOptions.answeredAsFresh(level, opt);
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    /** jdk.net's keepalive options: the JDK's call; the socket is no longer fresh for the rules. */
    public static void setTcpKeepAliveProbes0(int fd, int value) throws Throwable {
        Decisions.touched(fd);
        JdkModule.SET_KEEPALIVE_PROBES0.original().invokeExact(fd, value);
    }

    public static void setTcpKeepAliveTime0(int fd, int value) throws Throwable {
        Decisions.touched(fd);
        JdkModule.SET_KEEPALIVE_TIME0.original().invokeExact(fd, value);
    }

    public static void setTcpKeepAliveIntvl0(int fd, int value) throws Throwable {
        Decisions.touched(fd);
        JdkModule.SET_KEEPALIVE_INTVL0.original().invokeExact(fd, value);
    }

    public static void setQuickAck0(int fd, boolean on) throws Throwable {
        Decisions.touched(fd);
        try {
            JdkModule.SET_QUICK_ACK0.original().invokeExact(fd, on);
        } catch (IOException | UnsupportedOperationException e) {
            switch (SocketOptions.afterSetFailed(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK, on ? 1 : 0, null)) {
                case SocketOptions.RETRY:
                    JdkModule.SET_QUICK_ACK0.original().invokeExact(fd, on);
                    return;
                case SocketOptions.DONE:
                    return;
                default:
                    throw e;
            }
        }
    }

    public static boolean getQuickAck0(int fd) throws Throwable {
        Integer remembered = SocketOptions.remembered(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK);
        if (remembered != null) {
            return remembered != 0;
        }
        try {
            return (boolean) JdkModule.GET_QUICK_ACK0.original().invokeExact(fd);
        } catch (IOException | UnsupportedOperationException e) {
            int tmp = SocketOptions.afterGetFailed(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK) == -1 ? SocketOptions.freshTcp(fd) : -1;
            if (tmp < 0) {
                throw e;
            }
            try {
                boolean v = (boolean) JdkModule.GET_QUICK_ACK0.original().invokeExact(tmp);
                SocketOptions.answeredAsFresh(LibC.SOL_TCP, LibC.TCP_QUICKACK);
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    public static void setIpDontFragment0(int fd, boolean on, boolean isIPv6) throws Throwable {
        Decisions.touched(fd);
        try {
            JdkModule.SET_IP_DONT_FRAGMENT0.original().invokeExact(fd, on, isIPv6);
        } catch (IOException | UnsupportedOperationException e) {
            if (SocketOptions.afterSetFailed(fd, LibC.IPPROTO_IP, DONT_FRAGMENT, on ? 1 : 0, null) != SocketOptions.RETRY) {
                throw e;
            }
            JdkModule.SET_IP_DONT_FRAGMENT0.original().invokeExact(fd, on, isIPv6);
        }
    }

    public static boolean getIpDontFragment0(int fd, boolean isIPv6) throws Throwable {
        try {
            return (boolean) JdkModule.GET_IP_DONT_FRAGMENT0.original().invokeExact(fd, isIPv6);
        } catch (IOException | UnsupportedOperationException e) {
            int tmp = SocketOptions.afterGetFailed(fd, LibC.IPPROTO_IP, DONT_FRAGMENT) == -1 ? SocketOptions.freshTcp(fd) : -1;
            if (tmp < 0) {
                throw e;
            }
            try {
                boolean v = (boolean) JdkModule.GET_IP_DONT_FRAGMENT0.original().invokeExact(tmp, isIPv6);
                SocketOptions.answeredAsFresh(LibC.IPPROTO_IP, DONT_FRAGMENT);
                return v;
            } finally {
                Sock.close(tmp);
            }
        }
    }

    /** Urgent data through NIO: refused on MPTCP sockets ({@link SocketOptions#refuseUrgent}). */
    public static int sendOOB(FileDescriptor fd, byte data) throws Throwable {
        SocketOptions.refuseUrgent(JdkFds.fdVal(fd));
        return (int) JdkModule.SEND_OOB.original().invokeExact(fd, data);
    }

    /** Urgent data through JDK 17's legacy PlainSocketImpl: the same rule. */
    public static void socketSendUrgentData(Object impl, int data) throws Throwable {
        SocketOptions.refuseUrgent(JdkFds.fdVal(JdkFds.ofSocketImpl(impl)));
        JdkModule.SOCKET_SEND_URGENT_DATA.original().invokeExact(impl, data);
    }
}
