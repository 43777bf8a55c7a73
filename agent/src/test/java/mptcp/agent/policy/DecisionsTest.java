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
            }
            allocated[round] = threads.getThreadAllocatedBytes(id) - before;
        }
        System.out.println("Decisions, bytes allocated per round of 400,000 decisions: " + java.util.Arrays.toString(allocated));
        for (int round = 3; round < allocated.length; round++) {
            assertTrue(allocated[round] < 1024, "round " + round + ": " + allocated[round] + " bytes");
        }
    }
}
