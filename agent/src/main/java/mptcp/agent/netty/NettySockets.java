package mptcp.agent.netty;

import java.lang.reflect.Constructor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;

import mptcp.agent.config.Config;
import mptcp.agent.log.Log;
import mptcp.agent.policy.Connections;
import mptcp.agent.policy.Decisions;
import mptcp.agent.policy.Policy;
import mptcp.agent.policy.SocketOptions;
import mptcp.agent.policy.Sockets;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * The handlers behind Netty's hook classes (see {@link NettyModule}): the JDK path's policy applied to the sockets of
 * Netty's native transports. Nothing here throws into Netty except, on {@code fallback=fail}, Netty's own
 * {@code ChannelException} (of the calling copy of Netty) carrying the agent's message.
 */
public final class NettySockets {
    private NettySockets() {
    }

    /**
     * Called at the start of {@code Socket.newSocketStream0(ipv6)}: an MPTCP socket made exactly as Netty makes its TCP
     * sockets, or -1 to let Netty's own code run.
     *
     * <p>The role ({@code mode=server|client}) is known here, not later: Netty registers the socket with its epoll or
     * io_uring instance before it binds, listens or connects, and a protocol swap by dup2 afterwards would silently
     * drop that registration. A socket is a listener when it is made by a server channel's constructor
     * ({@code EpollServerSocketChannel}, {@code IoUringServerSocketChannel}, the incubator's
     * {@code IOUringServerSocketChannel}: every class name ending with "ServerSocketChannel"), looked up on the
     * stack only when the mode is not {@code all}.
     */
    static int socket(Class<?> hook, boolean ipv6) {
        try {
            Config c = Policy.config();
            boolean server = (c.convertsServers() && c.convertsClients()) || madeByServerChannel();
            int domain = ipv6 ? LibC.AF_INET6 : LibC.AF_INET;
            return Sockets.create(server, ipv6 ? "Netty AF_INET6 socket" : "Netty AF_INET socket",
                    protocol -> Sock.openNonBlocking(domain, protocol));
        } catch (SocketException refused) {
            throw channelException(hook, refused);
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty", "Netty socket left to Netty (" + t + "); it stays TCP");
            return -1;
        }
    }

    /**
     * Whether sockets of this transport may be watched by an epoll instance when they are bound or connected: true
     * but for io_uring (Netty 4.2's {@code io.netty.channel.uring}, the incubator's {@code io.netty.incubator.channel
     * .uring}), whose ring keeps no registration of the fd. The class is the calling Socket, channel or unsafe.
     */
    private static final ClassValue<Boolean> WATCHED = new ClassValue<Boolean>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return !type.getName().contains(".uring.");
        }
    };

    /**
     * Just before Netty connects {@code fd} (epoll: {@code Socket.connect(SocketAddress)} and its TCP Fast Open sends;
     * io_uring: before the ring's connect is submitted): the rules decide by the destination, {@code address} an
     * {@code InetSocketAddress} or an {@code InetAddress} and {@code port}. A socket kept TCP is converted keeping its
     * options and, for epoll, the registration in its event loop's epoll instance ({@code Decisions}). Never throws.
     */
    static void connecting(Class<?> hook, int fd, Object transport, Object address, int port) {
        try {
            if (!Decisions.decidesConnect()) {
                return;
            }
            InetAddress a;
            if (address instanceof InetSocketAddress) {
                a = ((InetSocketAddress) address).getAddress(); // null when unresolved: Netty's connect fails
                port = ((InetSocketAddress) address).getPort();
            } else if (address instanceof InetAddress) {
                a = (InetAddress) address;
            } else {
                return; // a Unix domain or VSOCK address
            }
            Decisions.beforeConnect(fd, a, port, watch(hook, transport));
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty-rules", "cannot apply the rules to a Netty socket (" + t + "); it stays as it is");
        }
    }

    /** Just before Netty binds {@code fd} to {@code address} ({@code Socket.bind(SocketAddress)}): the bind rules. */
    static void binding(Class<?> hook, int fd, Object transport, Object address) {
        try {
            if (Decisions.decidesBind() && address instanceof InetSocketAddress) {
                InetSocketAddress a = (InetSocketAddress) address;
                Decisions.beforeBind(fd, a.getAddress(), a.getPort(), watch(hook, transport));
            }
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty-rules", "cannot apply the rules to a Netty socket (" + t + "); it stays as it is");
        }
    }

    /**
     * Per copy of Netty (its hook class): true once its epoll {@code Native.epollCtlAdd} reported a registration, i.e.
     * its event loops report every socket they add to their epoll set ({@link #epollAdded}).
     */
    private static final ClassValue<boolean[]> REPORTING = new ClassValue<boolean[]>() {
        @Override
        protected boolean[] computeValue(Class<?> type) {
            return new boolean[1];
        }
    };

    /**
     * {@code Native.epollCtlAdd(epfd, fd, flags)} of {@code hook}'s copy of Netty: an event loop adds socket (or eventfd)
     * {@code fd} to its epoll set. Allocates nothing.
     */
    static void epollAdded(Class<?> hook, int epfd, int fd) {
        boolean[] reporting = REPORTING.get(hook);
        if (!reporting[0]) {
            reporting[0] = true;
        }
        Decisions.watchedBy(fd, epfd);
    }

    /** How the socket of {@code transport} (a Socket, channel or unsafe of {@code hook}'s copy of Netty) is watched. */
    private static int watch(Class<?> hook, Object transport) {
        if (transport != null && !WATCHED.get(transport.getClass())) {
            return Decisions.UNWATCHED;
        }
        return REPORTING.get(hook)[0] ? Decisions.REPORTED : Decisions.WATCHED;
    }

    /** After {@code Socket.connect} and {@code finishConnect}: {@code connected} true once the connection is up. */
    static void connected(boolean connected, int fd) {
        if (connected) {
            Connections.established(fd, -1);
        }
    }

    /** After {@code Socket.accept}: {@code fd} the accepted socket (or negative: nothing accepted). */
    static void accepted(int fd, int listener) {
        if (fd >= 0) {
            Connections.established(fd, listener);
        }
    }

    /**
     * Netty's call setting option {@code level}/{@code opt} to {@code value} on {@code fd} failed: true when the policy
     * stood in for it ({@code options=compat}: the IPv4 equivalent, or accepted and remembered), false to let Netty's
     * exception through. Never turns the socket into plain TCP (it is registered with Netty's epoll instance).
     */
    static boolean setFailed(int fd, int level, int opt, int value) {
        try {
            return SocketOptions.afterSetFailed(fd, level, opt, value, null, false) == SocketOptions.DONE;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Netty's call reading option {@code level}/{@code opt} failed: the value to answer (&ge; 0), or -1 to let it fail. */
    static int getFailed(int fd, int level, int opt) {
        try {
            int v = SocketOptions.afterGetFailed(fd, level, opt);
            if (v != -1) {
                return v < 0 ? -1 : v;
            }
            int fresh = SocketOptions.freshTcp(fd); // what a TCP socket answers when never set
            if (fresh < 0) {
                return -1;
            }
            try {
                int value = Sock.getInt(fresh, level, opt);
                if (value >= 0) {
                    SocketOptions.answeredAsFresh(level, opt);
                }
                return value < 0 ? -1 : value;
            } finally {
                Sock.close(fresh);
            }
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Before Netty reads option {@code level}/{@code opt}: a value the policy accepted in its place (&ge; 0), or -1. */
    static int remembered(int fd, int level, int opt) {
        try {
            Integer v = SocketOptions.remembered(fd, level, opt);
            return v == null ? -1 : v;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static boolean madeByServerChannel() {
        return StackWalker.getInstance().walk(frames -> frames.limit(32)
                .anyMatch(f -> f.getClassName().endsWith("ServerSocketChannel")));
    }

    /** Netty's own exception type, of the copy of Netty (shading prefix, class loader) that {@code hook} belongs to. */
    private static RuntimeException channelException(Class<?> hook, SocketException cause) {
        String unix = hook.getPackageName();
        String prefix = unix.substring(0, unix.length() - "io.netty.channel.unix".length());
        try {
            Class<?> type = Class.forName(prefix + "io.netty.channel.ChannelException", false, hook.getClassLoader());
            Constructor<?> make = type.getConstructor(String.class, Throwable.class);
            return (RuntimeException) make.newInstance(cause.getMessage(), cause);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return new IllegalStateException(cause.getMessage(), cause);
        }
    }
}
