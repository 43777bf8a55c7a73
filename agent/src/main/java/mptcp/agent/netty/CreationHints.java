package mptcp.agent.netty;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import mptcp.agent.config.AddressPrefix;
import mptcp.agent.policy.Decisions;

/**
 * What the agent knows, on the thread that makes a Netty socket, about the socket being made: its role, marked by the
 * channel constructor that makes it ({@link ChannelRoleRewrite}), and for a client made by {@code Bootstrap.connect}
 * its destination ({@link BootstrapRewrite}). Both are taken (and cleared) by the next {@code newSocketStream0} on
 * the thread; the destination is cleared again once {@code Bootstrap} made its channel, whatever was made.
 *
 * <p>With them a client socket starts with the protocol its connect will need: plain TCP when a rule keeps its
 * destination TCP (loopback, by default), so that connection costs what it costs without the agent; MPTCP otherwise.
 * Where the destination is not known yet (a channel registered first and connected later, as gRPC and Reactor Netty
 * do; a host name not resolved yet), the verdict of the last connect of the same copy of Netty is taken
 * ({@link NettySockets.Copy#expectTcp}). Either way the rules decide again at the connect, and a socket that started
 * with the other protocol is converted there: a hint saves a conversion, it never decides one.
 */
final class CreationHints {
    static final int UNKNOWN = 0;
    static final int CLIENT = 1;
    static final int LISTENER = 2;

    /** Verdicts of {@link #verdict}. */
    static final int NOT_KNOWN = -1;
    static final int MPTCP = 0;
    static final int TCP = 1;

    private static final ThreadLocal<CreationHints> CURRENT = ThreadLocal.withInitial(CreationHints::new);

    /** {@link #UNKNOWN}, {@link #CLIENT} or {@link #LISTENER}. */
    private int role;
    /** The destination of the client socket about to be made (a SocketAddress), or null. */
    private Object destination;

    private CreationHints() {
    }

    /** A channel constructor is about to make its socket: {@link #CLIENT} or {@link #LISTENER}. */
    static void role(int role) {
        CURRENT.get().role = role;
    }

    /** {@code Bootstrap} is about to make the channel it connects to {@code address}; null once it made it. */
    static void connectingTo(Object address) {
        CURRENT.get().destination = address;
    }

    /** This thread's hints. */
    static CreationHints current() {
        return CURRENT.get();
    }

    /** Takes (and clears) the role of the socket being made: {@link #UNKNOWN}, {@link #CLIENT} or {@link #LISTENER}. */
    int takeRole() {
        int r = role;
        role = UNKNOWN;
        return r;
    }

    /**
     * Takes (and clears) the destination of the socket being made and returns what the connect rules say of it
     * ({@link #verdict(Object)}); {@link #NOT_KNOWN} when there is none. Allocates nothing.
     */
    int takeVerdict() {
        Object d = destination;
        destination = null;
        return d == null ? NOT_KNOWN : verdict(d);
    }

    /**
     * What the connect rules say of {@code destination}: {@link #TCP}, {@link #MPTCP}, or {@link #NOT_KNOWN} (not an
     * IP socket address, or a host name still to be resolved). An unresolved address that is an IPv4 literal
     * ({@code Bootstrap.connect("127.0.0.1", port)} makes such an address) is read as the address it names.
     */
    static int verdict(Object destination) {
        if (!(destination instanceof InetSocketAddress)) {
            return NOT_KNOWN;
        }
        InetSocketAddress a = (InetSocketAddress) destination;
        InetAddress ip = a.getAddress();
        if (ip != null) {
            return Decisions.keepsTcp(ip, a.getPort()) ? TCP : MPTCP;
        }
        long v4 = ipv4(a.getHostString());
        if (v4 < 0) {
            return NOT_KNOWN;
        }
        return Decisions.keepsTcp(0, AddressPrefix.MAPPED | v4, a.getPort()) ? TCP : MPTCP;
    }

    /** The IPv4 address that {@code s} spells in dotted decimal (four parts, 0-255), or -1. */
    static long ipv4(String s) {
        int n = s.length();
        long value = 0;
        int parts = 0;
        int i = 0;
        while (parts < 4) {
            int start = i;
            int part = 0;
            while (i < n && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                part = part * 10 + (s.charAt(i++) - '0');
            }
            if (i == start || part > 255 || i - start > 1 && s.charAt(start) == '0') {
                return -1; // empty, too large, or a leading zero (octal to some parsers)
            }
            value = value << 8 | part;
            parts++;
            if (parts < 4) {
                if (i >= n || s.charAt(i) != '.') {
                    return -1;
                }
                i++;
            }
        }
        return i == n ? value : -1;
    }
}
