package mptcp.agent.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketException;

import mptcp.agent.config.Config;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The options ladder on real sockets of this kernel (no mocks): what compat and strict do when a call failed. */
class SocketOptionsTest {
    @AfterEach
    void defaults() {
        Policy.configure(Config.defaults());
    }

    private static void options(String policy) {
        Policy.configure(Config.parse("options=" + policy, k -> null, k -> null));
    }

    @Test
    void compatTurnsAnUnconnectedMptcpSocketIntoTcpForTheCallerToRetry() {
        options("compat");
        int fd = Sock.open(LibC.AF_INET6, LibC.IPPROTO_MPTCP, true, false);
        try {
            assertTrue(Sock.setInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS, 32) < 0, "MPTCP has no IPV6_TCLASS");
            assertEquals(SocketOptions.RETRY, SocketOptions.afterSetFailed(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS, 32, "x"));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertEquals(0, Sock.setInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS, 32), "the retry now works");
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void strictLetsTheErrorSurfaceAndKeepsMptcp() {
        options("strict");
        int fd = Sock.open(LibC.AF_INET6, LibC.IPPROTO_MPTCP, true, false);
        try {
            assertEquals(SocketOptions.THROW, SocketOptions.afterSetFailed(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS, 32, "x"));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertEquals(-2, SocketOptions.afterGetFailed(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS));
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void tcpSocketsAreNeverTouched() throws SocketException {
        options("compat");
        int fd = Sock.open(LibC.AF_INET, 0, false, false);
        try {
            assertEquals(SocketOptions.THROW, SocketOptions.afterSetFailed(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK, 1, "x"));
            assertEquals(-2, SocketOptions.afterGetFailed(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK));
            assertNull(SocketOptions.remembered(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK));
            SocketOptions.refuseUrgent(fd); // TCP: urgent data allowed
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void urgentDataIsRefusedOnMptcpWhateverThePolicy() {
        options("strict");
        int fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
        try {
            assertThrows(SocketException.class, () -> SocketOptions.refuseUrgent(fd));
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void readingAnOptionMptcpCannotReportUsesAFreshTcpSocketOfTheSameFamily() {
        options("compat");
        int fd = Sock.open(LibC.AF_INET6, LibC.IPPROTO_MPTCP, true, false);
        try {
            assertEquals(-1, SocketOptions.afterGetFailed(fd, LibC.SOL_TCP, LibC.TCP_QUICKACK));
            int fresh = SocketOptions.freshTcp(fd);
            try {
                assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fresh));
                assertEquals(LibC.AF_INET6, Sock.getInt(fresh, LibC.SOL_SOCKET, LibC.SO_DOMAIN));
            } finally {
                Sock.close(fresh);
            }
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void optionNames() {
        assertEquals("IPV6_TCLASS", SocketOptions.name(LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS));
        assertEquals("TCP_QUICKACK", SocketOptions.name(LibC.SOL_TCP, LibC.TCP_QUICKACK));
        assertEquals("IP_DONTFRAGMENT", SocketOptions.name(LibC.IPPROTO_IP, SocketOptions.DONT_FRAGMENT));
        assertEquals("SO_OOBINLINE", SocketOptions.name(LibC.SOL_SOCKET, LibC.SO_OOBINLINE));
        assertEquals("option 6/99", SocketOptions.name(LibC.SOL_TCP, 99));
    }
}
