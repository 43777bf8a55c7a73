package mptcp.agent;

import java.io.FileDescriptor;

/**
 * Handlers of the socket-option redirects (see {@link Instrumenter}): they keep socket options and urgent data
 * working on MPTCP sockets as they do on TCP. Today they only pass through.
 */
public final class Options {
    private Options() {
    }

    public static void setIntOption0(FileDescriptor fd, boolean mayNeedConversion, int level, int opt, int arg,
                                     boolean isIPv6) throws Throwable {
        Instrumenter.SET_INT_OPTION0.original.invokeExact(fd, mayNeedConversion, level, opt, arg, isIPv6);
    }

    public static int sendOOB(FileDescriptor fd, byte data) throws Throwable {
        return (int) Instrumenter.SEND_OOB.original.invokeExact(fd, data);
    }
}
