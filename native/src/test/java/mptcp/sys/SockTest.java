package mptcp.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Real syscalls against this machine's kernel; no mocks. */
class SockTest {

    @Test
    void mptcpSocketReportsProtocol262() {
        int fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
        assertTrue(fd >= 0, () -> "MPTCP socket: " + Errno.describe(-fd));
        try {
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_IS_MPTCP));
        } finally {
            assertEquals(0, Sock.close(fd));
        }
    }

    @Test
    void tcpSocketReportsProtocol6() {
        int fd = Sock.open(LibC.AF_INET6, 0, true, true);
        assertTrue(fd >= 0);
        try {
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertEquals(0, Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR));
            assertEquals(0, Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_IS_MPTCP));
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void replaceKeepsFdNumberAndState() {
        int fd = Sock.open(LibC.AF_INET6, 0, true, true);
        assertTrue(fd >= 0);
        try {
            int flags = Sock.statusFlags(fd);
            assertTrue(flags >= 0);
            // make it non-blocking through a second primitive-free route: replace keeps whatever it finds
            assertEquals(0, Swap.replace(fd, LibC.IPPROTO_MPTCP));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertEquals(LibC.AF_INET6, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN));
            assertEquals(0, Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR));
            assertEquals(flags, Sock.statusFlags(fd));
            assertEquals(0, Swap.replace(fd, 0));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void convertKeepsOptionsAndBoundPort() throws Exception {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open()) {
            ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            ch.setOption(java.net.StandardSocketOptions.SO_KEEPALIVE, true);
            ch.setOption(java.net.StandardSocketOptions.SO_LINGER, 7);
            ch.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            int port = ((java.net.InetSocketAddress) ch.getLocalAddress()).getPort();
            int fd = fdOf(ch);
            assertEquals(0, Swap.convert(fd, LibC.IPPROTO_MPTCP));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE));
            assertEquals(0, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR));
            assertEquals(7, ch.getOption(java.net.StandardSocketOptions.SO_LINGER));
            assertEquals(port, ((java.net.InetSocketAddress) ch.getLocalAddress()).getPort());
            byte[] local = new byte[28];
            assertTrue(Sock.address(fd, false, local) > 0);
            assertEquals(port, (local[2] & 0xFF) << 8 | (local[3] & 0xFF), "the kernel's bound port is kept");
        }
    }

    @Test
    void convertRefusesListeningSocket() throws Exception {
        try (java.nio.channels.ServerSocketChannel ch = java.nio.channels.ServerSocketChannel.open()) {
            ch.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            assertEquals(-Errno.EISCONN, Swap.convert(fdOf(ch), LibC.IPPROTO_MPTCP));
        }
    }

    /** The fd of a JDK channel (test JVM: opens sun.nio.ch through reflection, see the surefire argLine). */
    private static int fdOf(java.nio.channels.Channel ch) throws Exception {
        java.lang.reflect.Method m = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
        m.setAccessible(true);
        return (int) m.invoke(ch);
    }

    @Test
    void errorPathsReturnNegativeErrno() {
        assertEquals(-Errno.EPROTONOSUPPORT, Sock.open(LibC.AF_INET, 200, false, false));
        assertEquals(-Errno.EAFNOSUPPORT, Sock.open(12345, 0, false, false));
        assertEquals(-Errno.EBADF, Sock.setInt(-1, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 1));
        assertEquals(-Errno.EBADF, Sock.getInt(-1, LibC.SOL_SOCKET, LibC.SO_PROTOCOL));
        assertEquals(-Errno.EBADF, Sock.getBytes(-1, LibC.SOL_MPTCP, LibC.MPTCP_INFO, new byte[64]));
        assertEquals(-Errno.EBADF, Sock.protocol(-1));
        assertEquals(-Errno.EBADF, Swap.replace(-1, LibC.IPPROTO_MPTCP));
        assertEquals(-Errno.EBADF, Sock.close(-1));
        assertEquals(-Errno.EBADF, Sock.statusFlags(-1));
        int fd = Sock.open(LibC.AF_INET, 0, false, false);
        try {
            assertEquals(-Errno.ENOPROTOOPT, Sock.getInt(fd, LibC.SOL_SOCKET, 99999));
        } finally {
            Sock.close(fd);
        }
        assertTrue(Errno.describe(Errno.ENOPROTOOPT).startsWith("ENOPROTOOPT ("), Errno.describe(Errno.ENOPROTOOPT));
    }
}
