package mptcp.agent.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import mptcp.agent.config.AddressPrefix;
import mptcp.agent.config.Config;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/** The rules applied to real sockets of this kernel (real syscalls, protocol read back with SO_PROTOCOL). */
class DecisionsTest {
    private static final long LOOPBACK4 = AddressPrefix.MAPPED | 0x7F00_0001L;
    private static final long OTHER4 = AddressPrefix.MAPPED | 0x0A01_0203L; // 10.1.2.3

    private static void configure(String args) {
        Policy.configure(Config.parse(args, Map.<String, String>of()::get, Map.<String, String>of()::get));
    }

    private static int mptcpSocket(boolean server) throws Exception {
        int fd = Sockets.create(LibC.AF_INET6, server);
        assertTrue(fd >= 0, "MPTCP socket: " + fd);
        assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
        return fd;
    }

    @AfterEach
    void defaults() {
        configure("");
    }

    @Test
    void freshSocketToLoopbackBecomesTcpKeepingDualStack() throws Exception {
        configure("");
        int fd = mptcpSocket(false);
        try {
            long before = Decisions.CONNECTIONS_TCP_RULE.sum();
            Decisions.beforeConnect(fd, 0, LOOPBACK4, 80);
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertEquals(0, Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            assertTrue(Decisions.keptTcp(fd));
            assertEquals(before + 1, Decisions.CONNECTIONS_TCP_RULE.sum());
            assertEquals(1, Decisions.count(0)); // rule 1: tcp connect 127.0.0.0/8
            Decisions.beforeConnect(fd, 0, LOOPBACK4, 80); // already TCP: nothing more
            assertEquals(before + 1, Decisions.CONNECTIONS_TCP_RULE.sum());
        } finally {
            Sock.close(fd);
        }
    }

    /** The MPTCP socket a rule turned away serves the next client socket: MPTCP, blocking, unbound, dual stack. */
    @Test
    void turnedAwaySocketServesAgain() throws Exception {
        configure("");
        int first = mptcpSocket(false);
        int next = -1;
        try {
            Decisions.beforeConnect(first, 0, LOOPBACK4, 80);
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(first));
            next = mptcpSocket(false); // a spare, or a new socket if another test took it
            assertEquals(0, Sock.statusFlags(next) & LibC.O_NONBLOCK);
            assertEquals(0, Sock.getInt(next, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            assertEquals(LibC.TCP_CLOSE, Sock.tcpState(next));
            Decisions.beforeConnect(next, 0, OTHER4, 80);
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(next));
        } finally {
            Sock.close(first);
            Sock.close(next);
        }
    }

    @Test
    void touchedSocketIsConvertedWithItsOptions() throws Exception {
        configure("");
        int fd = mptcpSocket(false);
        try {
            assertEquals(0, Sock.setInt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 1));
            assertEquals(0, Sock.setInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY, 1));
            Decisions.touched(fd);
            Decisions.beforeConnect(fd, 0, 1, 443); // ::1
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY));
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void otherDestinationsStayMptcpAndApplicationRulesComeFirst() throws Exception {
        configure("rules=mptcp connect 127.0.0.1 9;tcp connect 10.0.0.0/8 5432");
        int a = mptcpSocket(false);
        int b = mptcpSocket(false);
        int c = mptcpSocket(false);
        int d = mptcpSocket(false);
        try {
            Decisions.beforeConnect(a, 0, OTHER4, 80);
            Decisions.beforeConnect(b, 0, LOOPBACK4, 9);
            Decisions.beforeConnect(c, 0, LOOPBACK4, 10);
            Decisions.beforeConnect(d, 0, OTHER4, 5432);
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(a));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(b));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(c));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(d));
            assertFalse(Decisions.keptTcp(a));
        } finally {
            for (int fd : new int[] {a, b, c, d}) {
                Sock.close(fd);
            }
        }
    }

    @Test
    void listenersByBindAddress() throws Exception {
        configure("");
        int lo = mptcpSocket(true);
        int any = mptcpSocket(true);
        try {
            Decisions.beforeBind(lo, 0, LOOPBACK4, 0);
            Decisions.beforeBind(any, 0, 0, 0); // ::
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(lo));
            assertEquals(1, Sock.getInt(lo, LibC.SOL_SOCKET, LibC.SO_REUSEADDR), "listener keeps SO_REUSEADDR");
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(any));
        } finally {
            Sock.close(lo);
            Sock.close(any);
        }
    }

    @Test
    void loopbackMptcpAndPlainTcpSocketsAreLeftAlone() throws Exception {
        configure("loopback=mptcp");
        int fd = mptcpSocket(false);
        int tcp = Sock.open(LibC.AF_INET6, 0, true, false);
        try {
            Decisions.beforeConnect(fd, 0, LOOPBACK4, 80);
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            configure("");
            Decisions.unknown(tcp);
            long before = Decisions.CONNECTIONS_TCP_RULE.sum();
            Decisions.beforeConnect(tcp, 0, LOOPBACK4, 80);
            assertEquals(before, Decisions.CONNECTIONS_TCP_RULE.sum(), "a TCP socket is not counted as kept TCP");
        } finally {
            Sock.close(fd);
            Sock.close(tcp);
        }
    }

    /** A socket made the way Netty makes it (non-blocking MPTCP, through a library's own call), unknown to the agent. */
    private static int librarySocket() throws Exception {
        int fd = Sockets.create(false, "test socket", protocol -> Sock.openNonBlocking(LibC.AF_INET6, protocol));
        assertTrue(fd >= 0, "MPTCP socket: " + fd);
        assertEquals(0, Sock.setInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY, 1)); // as Netty's channel config does
        return fd;
    }

    /** The epoll fd a new JDK selector made (an epoll instance of this process to add sockets to). */
    private static int epollOf(Runnable open) {
        java.util.Set<Integer> before = mptcp.agent.os.ProcFs.fds("self", "anon_inode:[eventpoll]").keySet();
        open.run();
        java.util.Set<Integer> after = new java.util.HashSet<>(mptcp.agent.os.ProcFs.fds("self", "anon_inode:[eventpoll]").keySet());
        after.removeAll(before);
        assertEquals(1, after.size(), "one new epoll fd: " + after);
        return after.iterator().next();
    }

    private static final int EPOLLIN = 0x1;
    private static final int EPOLLRDHUP = 0x2000;
    private static final int EPOLLET = 0x80000000;
    private static final int EPOLLERR = 0x8;
    private static final int EPOLLHUP = 0x10;

    /**
     * Netty's epoll case: an event loop added the socket to its epoll set before connect (and reported it), a rule
     * keeps the connection TCP: the socket is converted (options, non-blocking mode kept) and the registration is
     * there again for the new file, same events and data (read back from /proc/self/fdinfo). Without the report
     * ({@link Decisions#WATCHED}) every epoll fd is read and the result is the same.
     */
    @Test
    void watchedSocketKeepsItsEpollRegistration() throws Exception {
        configure("");
        java.nio.channels.Selector[] selector = new java.nio.channels.Selector[1];
        int epfd = epollOf(() -> {
            try {
                selector[0] = java.nio.channels.Selector.open();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            for (int watch : new int[] {Decisions.REPORTED, Decisions.WATCHED}) {
                int fd = librarySocket();
                try {
                    int events = EPOLLIN | EPOLLRDHUP | EPOLLET;
                    long data = fd; // as Netty's native code registers its sockets
                    assertEquals(0, Sock.epollCtl(epfd, LibC.EPOLL_CTL_ADD, fd, events, data));
                    if (watch == Decisions.REPORTED) {
                        // reported as Netty's event loop does (Native.epollCtlAdd, then Mod): nothing read from /proc
                        Decisions.epollCtl(LibC.EPOLL_CTL_ADD, epfd, fd, EPOLLRDHUP | EPOLLET);
                        Decisions.epollCtl(3, epfd, fd, events);
                    }
                    long before = Decisions.CONNECTIONS_TCP_RULE.sum();
                    Decisions.beforeConnect(fd, java.net.InetAddress.getByName("127.0.0.1"), 80, watch);
                    assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
                    assertEquals(before + 1, Decisions.CONNECTIONS_TCP_RULE.sum());
                    assertTrue(Decisions.keptTcp(fd));
                    assertEquals(1, Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY));
                    assertEquals(LibC.O_NONBLOCK, Sock.statusFlags(fd) & LibC.O_NONBLOCK);
                    mptcp.agent.os.EpollRegistrations r = mptcp.agent.os.EpollRegistrations.in(epfd, fd,
                            mptcp.agent.os.EpollRegistrations.inode(fd));
                    assertEquals(1, r.size(), "the registration, for the new file");
                    assertEquals(events | EPOLLERR | EPOLLHUP, r.events(0), "the kernel always adds EPOLLERR and EPOLLHUP");
                    assertEquals(data, r.data(0));
                } finally {
                    Sock.close(fd);
                }
            }
        } finally {
            selector[0].close();
        }
    }

    /**
     * A library socket nothing reported (Netty 4.2 registers a channel with epoll only when it first asks for events;
     * io_uring never): converted, no registration looked for or made; a listener by its bind address.
     */
    @Test
    void unwatchedLibrarySocketsAreConvertedWithoutRegistration() throws Exception {
        configure("");
        int client = librarySocket();
        int listener = librarySocket();
        int other = librarySocket();
        try {
            long listeners = Decisions.LISTENERS_TCP_RULE.sum();
            Decisions.beforeConnect(client, java.net.InetAddress.getByName("::1"), 443, Decisions.REPORTED);
            Decisions.beforeBind(listener, java.net.InetAddress.getByName("127.0.0.1"), 0, Decisions.UNWATCHED);
            Decisions.beforeConnect(other, java.net.InetAddress.getByName("10.1.2.3"), 80, Decisions.REPORTED);
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(client));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(listener));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(other), "no rule: stays MPTCP");
            assertEquals(listeners + 1, Decisions.LISTENERS_TCP_RULE.sum());
            assertEquals(0, mptcp.agent.os.EpollRegistrations.of(client, mptcp.agent.os.EpollRegistrations.inode(client)).size());
        } finally {
            Sock.close(client);
            Sock.close(listener);
            Sock.close(other);
        }
    }

    /**
     * A library's client socket the agent made plain TCP expecting its destination to be kept TCP: for loopback it is
     * kept as it is (the same socket, counted); for another destination it becomes MPTCP before its connect, with its
     * options and its epoll registration as the library reported it (nothing read from /proc).
     */
    @Test
    void libraryClientMadeTcpIsKeptOrMadeMptcpByItsDestination() throws Exception {
        configure("");
        java.nio.channels.Selector[] selector = new java.nio.channels.Selector[1];
        int epfd = epollOf(() -> {
            try {
                selector[0] = java.nio.channels.Selector.open();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        int loopback = Sock.openNonBlocking(LibC.AF_INET6, 0);
        int remote = Sock.openNonBlocking(LibC.AF_INET6, 0);
        try {
            for (int fd : new int[] {loopback, remote}) {
                Decisions.madeByLibrary(fd, false);
                assertEquals(0, Sock.setInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY, 1));
                assertEquals(0, Sock.setInt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 1));
                int events = EPOLLRDHUP | EPOLLET;
                assertEquals(0, Sock.epollCtl(epfd, LibC.EPOLL_CTL_ADD, fd, events, fd));
                Decisions.epollCtl(LibC.EPOLL_CTL_ADD, epfd, fd, events);
            }
            long inode = mptcp.agent.os.EpollRegistrations.inode(loopback);
            long kept = Decisions.CONNECTIONS_TCP_RULE.sum();
            assertTrue(Decisions.beforeConnect(loopback, java.net.InetAddress.getByName("127.0.0.1"), 80, Decisions.REPORTED));
            Decisions.mptcpAfterAll(loopback, Decisions.REPORTED);
            assertEquals(inode, mptcp.agent.os.EpollRegistrations.inode(loopback), "the same socket, nothing converted");
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(loopback));
            assertTrue(Decisions.keptTcp(loopback));
            assertEquals(kept + 1, Decisions.CONNECTIONS_TCP_RULE.sum());

            long made = Stats.SOCKETS_MPTCP.sum();
            assertFalse(Decisions.beforeConnect(remote, java.net.InetAddress.getByName("10.1.2.3"), 80, Decisions.REPORTED));
            Decisions.mptcpAfterAll(remote, Decisions.REPORTED);
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(remote));
            assertEquals(made + 1, Stats.SOCKETS_MPTCP.sum());
            assertEquals(1, Sock.getInt(remote, LibC.SOL_TCP, LibC.TCP_NODELAY));
            assertEquals(1, Sock.getInt(remote, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE));
            assertEquals(LibC.O_NONBLOCK, Sock.statusFlags(remote) & LibC.O_NONBLOCK);
            assertEquals(0, Sock.getInt(remote, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            mptcp.agent.os.EpollRegistrations r = mptcp.agent.os.EpollRegistrations.in(epfd, remote,
                    mptcp.agent.os.EpollRegistrations.inode(remote));
            assertEquals(1, r.size(), "the registration, for the new file");
            assertEquals(EPOLLRDHUP | EPOLLET | EPOLLERR | EPOLLHUP, r.events(0));
            assertEquals(remote, r.data(0));
            Decisions.mptcpAfterAll(remote, Decisions.REPORTED); // once only
            assertEquals(made + 1, Stats.SOCKETS_MPTCP.sum());
        } finally {
            Sock.close(loopback);
            Sock.close(remote);
            selector[0].close();
        }
    }

    /**
     * A client socket made TCP on a guess with an option MPTCP lacks set before connect (TCP_USER_TIMEOUT, read from
     * the kernel; TCP_MD5SIG, reported by the library) stays plain TCP for any destination.
     */
    @Test
    void optionsMptcpLacksKeepAGuessedTcpSocketTcp() throws Exception {
        configure("");
        int timeout = Sock.openNonBlocking(LibC.AF_INET6, 0);
        int md5 = Sock.openNonBlocking(LibC.AF_INET6, 0);
        try {
            Decisions.madeByLibrary(timeout, false);
            assertEquals(0, Sock.setInt(timeout, LibC.SOL_TCP, 18, 5000)); // TCP_USER_TIMEOUT
            Decisions.madeByLibrary(md5, false);
            Decisions.tcpOnly(md5);
            for (int fd : new int[] {timeout, md5}) {
                assertFalse(Decisions.beforeConnect(fd, java.net.InetAddress.getByName("10.1.2.3"), 80, Decisions.UNWATCHED));
                Decisions.mptcpAfterAll(fd, Decisions.UNWATCHED);
                assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            }
            assertEquals(5000, Sock.getInt(timeout, LibC.SOL_TCP, 18));
        } finally {
            Sock.close(timeout);
            Sock.close(md5);
        }
    }

    /** What the connect rules say of a destination, without deciding anything (a Netty socket about to be made). */
    @Test
    void keepsTcpAnswersWithoutCounting() throws Exception {
        configure("rules=mptcp connect 127.0.0.2");
        long kept = Decisions.CONNECTIONS_TCP_RULE.sum();
        assertTrue(Decisions.keepsTcp(java.net.InetAddress.getByName("127.0.0.1"), 80));
        assertTrue(Decisions.keepsTcp(java.net.InetAddress.getByName("::1"), 80));
        assertFalse(Decisions.keepsTcp(java.net.InetAddress.getByName("127.0.0.2"), 80), "the application's rule first");
        assertFalse(Decisions.keepsTcp(ELEVEN, 80));
        assertFalse(Decisions.keepsTcp(0, OTHER4, 80));
        assertTrue(Decisions.keepsTcp(0, LOOPBACK4, 80));
        assertEquals(kept, Decisions.CONNECTIONS_TCP_RULE.sum());
        configure("loopback=mptcp");
        assertFalse(Decisions.keepsTcp(java.net.InetAddress.getByName("127.0.0.1"), 80));
    }

    private static final int NOT_OPEN = 1 << 20;
    private static final java.net.InetAddress ELEVEN = address("11.0.0.1");

    private static java.net.InetAddress address(String literal) {
        try {
            return java.net.InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deciding that a socket stays MPTCP (no rule, or an mptcp rule) allocates nothing. */
    @Test
    void decidingAllocatesNothing() throws Exception {
        configure("rules=mptcp connect 10.9.0.0/16 443;tcp connect 10.0.0.0/8 5432;tcp connect fd00::/8");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long[] allocated = new long[6];
        for (int round = 0; round < allocated.length; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                Decisions.beforeConnect(-1, 0, AddressPrefix.MAPPED | 0x0B00_0000L | i, 80);   // 11.x: no rule
                Decisions.beforeConnect(-1, 0, AddressPrefix.MAPPED | 0x0A09_0000L | (i & 0xFFFF), 443); // mptcp rule
                Decisions.beforeConnect(-1, 0x2001_0db8_0000_0000L, i, 5432);                // IPv6, no rule
                Decisions.beforeBind(-1, 0, 0, 8080);                                        // no bind rule matches
                Decisions.beforeConnect(NOT_OPEN, ELEVEN, 80, Decisions.REPORTED);          // a library's socket, IPv4
                Decisions.keepsTcp(ELEVEN, 80);                                              // a Netty socket being made
            }
            allocated[round] = threads.getThreadAllocatedBytes(id) - before;
        }
        System.out.println("Decisions, bytes allocated per round of 500,000 decisions: " + java.util.Arrays.toString(allocated));
        for (int round = 3; round < allocated.length; round++) {
            assertTrue(allocated[round] < 1024, "round " + round + ": " + allocated[round] + " bytes");
        }
    }
}
