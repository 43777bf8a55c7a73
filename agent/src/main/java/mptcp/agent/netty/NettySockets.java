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
import mptcp.agent.policy.Races;
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
     * One copy of Netty (its shading prefix and class loader: its hook class), and what the agent learnt of it. Each
     * handler that needs it gets it first (bound by {@link HookClass}).
     */
    static final class Copy {
        final Class<?> hook;
        /**
         * True once its epoll {@code Native} reported a registration: its event loops report every socket they add to
         * their epoll set ({@link #epollCtl}).
         */
        volatile boolean reporting;
        /**
         * Whether the last connect the rules decided for this copy was kept plain TCP: the guess for a client socket
         * made before its destination is known ({@link CreationHints}).
         */
        volatile boolean expectTcp;

        Copy(Class<?> hook) {
            this.hook = hook;
        }
    }

    /**
     * Called at the start of {@code Socket.newSocketStream0(ipv6)}: a socket made exactly as Netty makes its TCP
     * sockets, MPTCP or, for a client whose destination the rules keep plain TCP, TCP; or -1 to let Netty's own code
     * run.
     *
     * <p>The role ({@code mode=server|client}) is known here, not later: Netty registers the socket with its epoll or
     * io_uring instance before it binds, listens or connects. The socket channel constructors of epoll and io_uring
     * mark it ({@link ChannelRoleRewrite}); a socket made elsewhere (the io_uring incubator) is a listener when a
     * server channel's constructor ({@code ...ServerSocketChannel}) is on the stack, looked up only when the mode is not
     * {@code all}.
     *
     * <p>A client of those transports starts with the protocol its connect will need, when the rules decide connects:
     * by its destination when {@code Bootstrap.connect} gave it, else as the last connect of this copy of Netty
     * went ({@link CreationHints}); the rules decide again at the connect ({@link #connecting}).
     */
    static int socket(Copy copy, boolean ipv6) {
        CreationHints hints = CreationHints.current();
        int role = hints.takeRole();
        int verdict = hints.takeVerdict();
        try {
            Config c = Policy.config();
            boolean server = role == CreationHints.UNKNOWN
                    ? (c.convertsServers() && c.convertsClients()) || madeByServerChannel()
                    : role == CreationHints.LISTENER;
            int domain = ipv6 ? LibC.AF_INET6 : LibC.AF_INET;
            if (role == CreationHints.CLIENT && Decisions.decidesConnect() && Sockets.wanted(false)
                    && (verdict == CreationHints.TCP || verdict == CreationHints.NOT_KNOWN && copy.expectTcp)) {
                int fd = Sock.openNonBlocking(domain, 0);
                if (fd < 0) {
                    return -1; // Netty's own call reports the error (EMFILE, ...)
                }
                Decisions.madeByLibrary(fd, false);
                if (Log.enabled(Log.Level.DEBUG)) {
                    Log.debug("fd " + fd + ": Netty " + (ipv6 ? "AF_INET6" : "AF_INET") + " client socket made plain TCP ("
                            + (verdict == CreationHints.TCP ? "its destination is kept TCP by a rule"
                            : "as the last connect was") + ")");
                }
                return fd;
            }
            int fd = Sockets.create(server, ipv6 ? "Netty AF_INET6 socket" : "Netty AF_INET socket",
                    protocol -> Sock.openNonBlocking(domain, protocol));
            if (fd >= 0) {
                Decisions.madeByLibrary(fd, true);
            }
            return fd;
        } catch (SocketException refused) {
            throw channelException(copy.hook, refused);
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty", "Netty socket left to Netty (" + t + "); it stays TCP");
            return -1;
        }
    }

    /** Netty made socket {@code fd} itself (the agent answered -1): nothing known about it. */
    static void own(int fd) {
        Decisions.unknown(fd);
    }

    /** A socket channel constructor is about to make its socket ({@link ChannelRoleRewrite}). */
    static void role(int role) {
        CreationHints.role(role);
    }

    /** {@code Bootstrap} is about to make the channel it will connect to {@code address}; null: it made it. */
    static void connectingTo(Object address) {
        CreationHints.connectingTo(address);
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
     * {@code InetSocketAddress} or an {@code InetAddress} and {@code port}. A socket kept TCP that is MPTCP is converted
     * keeping its options and, for epoll, its registration in its event loop's epoll instance ({@code Decisions}); a
     * socket the agent made TCP for a destination the rules do not keep TCP becomes MPTCP the same way. Throws only
     * Netty's own {@code ChannelException}, with {@code fallback=fail} when the kernel refuses MPTCP there.
     */
    static void connecting(Copy copy, int fd, Object transport, Object address, int port) {
        try {
            boolean rules = Decisions.decidesConnect();
            if (!rules && !Policy.config().race) {
                return;
            }
            boolean fastOpen = port >= 0; // a TCP Fast Open send: data rides on the SYN, a second attempt would lose it
            InetAddress a;
            if (address instanceof InetSocketAddress) {
                a = ((InetSocketAddress) address).getAddress(); // null when unresolved: Netty's connect fails
                port = ((InetSocketAddress) address).getPort();
            } else if (address instanceof InetAddress) {
                a = (InetAddress) address;
            } else {
                return; // a Unix domain or VSOCK address
            }
            int watch = watch(copy, transport);
            if (rules) {
                boolean tcp = Decisions.beforeConnect(fd, a, port, watch);
                copy.expectTcp = tcp;
                if (!tcp) {
                    Decisions.mptcpAfterAll(fd, watch);
                }
            }
            // the connect race: epoll's connects (finishConnect takes the outcome over); io_uring's ring connect and
            // TCP Fast Open sends cannot be taken over: only the memory of destinations that drop MPTCP applies there
            Races.beforeConnect(fd, a, port, watch, watch != Decisions.UNWATCHED && !fastOpen);
        } catch (SocketException refused) {
            throw channelException(copy.hook, refused);
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty-rules", "cannot apply the rules to a Netty socket (" + t + "); it stays as it is");
        }
    }

    /** Just before Netty binds {@code fd} to {@code address} ({@code Socket.bind(SocketAddress)}): the bind rules. */
    static void binding(Copy copy, int fd, Object transport, Object address) {
        try {
            if (Decisions.decidesBind() && address instanceof InetSocketAddress) {
                InetSocketAddress a = (InetSocketAddress) address;
                Decisions.beforeBind(fd, a.getAddress(), a.getPort(), watch(copy, transport));
            }
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "netty-rules", "cannot apply the rules to a Netty socket (" + t + "); it stays as it is");
        }
    }

    /**
     * {@code Native.epollCtlAdd/Mod/Del(epfd, fd, events)} of {@code copy} succeeded: an event loop added, changed or
     * removed the registration of socket (or eventfd) {@code fd} in its epoll set. Allocates nothing.
     */
    static void epollCtl(Copy copy, int op, int epfd, int fd, int events) {
        if (!copy.reporting) {
            copy.reporting = true;
        }
        Decisions.epollCtl(op, epfd, fd, events);
    }

    /** How the socket of {@code transport} (a Socket, channel or unsafe of {@code copy}) is watched. */
    private static int watch(Copy copy, Object transport) {
        if (transport != null && !WATCHED.get(transport.getClass())) {
            return Decisions.UNWATCHED;
        }
        return copy.reporting ? Decisions.REPORTED : Decisions.WATCHED;
    }

    /** {@code LinuxSocket.setTcpMd5Sig} on {@code fd}: an option MPTCP lacks ({@link OptionGuards}). */
    static void tcpOnly(int fd) {
        Decisions.tcpOnly(fd);
    }

    /** After {@code Socket.connect} and {@code finishConnect}: {@code connected} true once the connection is up. */
    static void connected(boolean connected, int fd) {
        if (connected) {
            Races.afterFinish(fd, true, false); // the race's registration ends (its outcome, if any, was taken before)
            Connections.established(fd, -1);
        }
    }

    /**
     * At the start of epoll's {@code Socket.finishConnect()} (called when the event loop saw the connecting socket
     * writable): a connect race decided meanwhile puts its outcome under {@code fd} ({@link Races#beforeFinish}).
     * @return 0: Netty asks the socket; 1: connected (plain TCP won); 2: not yet (plain TCP still connecting)
     * @throws ConnectException when plain TCP failed while MPTCP had no answer: the connect fails so
     */
    static int finishing(int fd) throws java.io.IOException {
        int t = Races.beforeFinish(fd);
        if (t == Races.NONE) {
            return 0;
        }
        if (t == Races.CONNECTED) {
            Connections.established(fd, -1);
            return 1;
        }
        if (t == Races.CONNECTING) {
            return 2;
        }
        String text = Sock.strerror(-t);
        throw new java.net.ConnectException("finishConnect(..) failed: " + (text != null ? text : "errno " + -t));
    }

    /** After {@code Socket.accept}: {@code fd} the accepted socket (or negative: nothing accepted). */
    static void accepted(int fd, int listener) {
        if (fd >= 0) {
            Connections.established(fd, listener);
        }
    }

    /** {@code FileDescriptor.markClosed()} returned {@code marked}: when true, Netty is about to close {@code fd}. */
    static void closing(boolean marked, int fd) {
        if (marked) {
            Connections.closing(fd);
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
