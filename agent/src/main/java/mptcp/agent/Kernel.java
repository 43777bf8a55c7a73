package mptcp.agent;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.Channel;

/** Access from agent code to the file descriptor behind a JDK channel (java.base opens sun.nio.ch to the agent). */
final class Kernel {
    private static MethodHandle fdVal;

    private Kernel() {
    }

    /** The fd of a SocketChannel or ServerSocketChannel of the JDK's default provider. */
    static int fd(Channel channel) {
        try {
            return (int) fdValHandle().invoke(channel);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the fd of " + channel, t);
        }
    }

    private static MethodHandle fdValHandle() throws ReflectiveOperationException {
        if (fdVal == null) {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl", false, null);
            fdVal = MethodHandles.privateLookupIn(selCh, MethodHandles.lookup())
                    .findVirtual(selCh, "getFDVal", MethodType.methodType(int.class));
        }
        return fdVal;
    }
}
