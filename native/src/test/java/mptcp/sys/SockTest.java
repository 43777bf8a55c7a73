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

    /** fcntl(2), bound here with jnr-ffi so the test sets the flags through a route independent of Sock. */
    public interface Fcntl {
        int fcntl(int fd, int cmd, int arg);
    }

    private static final Fcntl FCNTL = jnr.ffi.LibraryLoader.create(Fcntl.class).load("c");
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int FD_CLOEXEC = 1;
    private static final int O_NONBLOCK = 04000;

    /** Makes {@code fd} non-blocking and close-on-exec, and checks the kernel took both. */
    private static void nonBlockingCloexec(int fd) {
        assertEquals(0, FCNTL.fcntl(fd, F_SETFL, FCNTL.fcntl(fd, F_GETFL, 0) | O_NONBLOCK));
        assertEquals(0, FCNTL.fcntl(fd, F_SETFD, FCNTL.fcntl(fd, F_GETFD, 0) | FD_CLOEXEC));
        assertFlags(fd, true, "before the swap");
    }

    private static void assertFlags(int fd, boolean set, String when) {
        assertEquals(set, (FCNTL.fcntl(fd, F_GETFL, 0) & O_NONBLOCK) != 0, "O_NONBLOCK " + when);
        assertEquals(set, (FCNTL.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0, "FD_CLOEXEC " + when);
    }

    @Test
    void replaceKeepsFdNumberAndState() {
        int fd = Sock.open(LibC.AF_INET6, 0, true, true);
        assertTrue(fd >= 0);
        try {
            nonBlockingCloexec(fd);
            assertEquals(0, Swap.replace(fd, LibC.IPPROTO_MPTCP));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertEquals(LibC.AF_INET6, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN));
            assertEquals(0, Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR));
            assertFlags(fd, true, "after replace to MPTCP");
            assertEquals(0, Swap.replace(fd, 0));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertFlags(fd, true, "after replace back to TCP");
        } finally {
            Sock.close(fd);
        }
    }

    /** The swap copies the flags, it does not invent them: a blocking, inheritable socket stays so. */
    @Test
    void replaceKeepsBlockingAndInheritable() {
        int fd = Sock.open(LibC.AF_INET, 0, false, false);
        assertTrue(fd >= 0);
        try {
            assertFlags(fd, false, "fresh");
            assertEquals(0, Swap.replace(fd, LibC.IPPROTO_MPTCP));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            assertFlags(fd, false, "after replace");
        } finally {
            Sock.close(fd);
        }
    }

    @Test
    void convertKeepsNonBlockingAndCloexec() {
        int fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
        assertTrue(fd >= 0, () -> "MPTCP socket: " + Errno.describe(-fd));
        try {
            nonBlockingCloexec(fd);
            assertEquals(0, Swap.convert(fd, 0));
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertFlags(fd, true, "after convert to TCP");
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

    /**
     * A socket set up the way a library such as Netty sets it up (non-blocking MPTCP, options through its own natives):
     * {@code convert(fd, 0, true)} also carries those options to the TCP socket; the JDK's set ({@code convert(fd, 0)})
     * does not. SO_LINGER and the bound address go through native memory (setBytes, bind), not jnr-ffi.
     */
    @Test
    void convertCarriesLibraryOptions() {
        int[][] set = {
            {LibC.SOL_TCP, LibC.TCP_NOTSENT_LOWAT, 16384},
            {LibC.SOL_TCP, LibC.TCP_FASTOPEN_CONNECT, 1},
            {LibC.SOL_TCP, LibC.TCP_CORK, 1},
            {LibC.IPPROTO_IP, LibC.IP_FREEBIND, 1},
            {LibC.IPPROTO_IP, LibC.IP_BIND_ADDRESS_NO_PORT, 1},
        };
        for (boolean library : new boolean[] {true, false}) {
            int fd = Sock.openNonBlocking(LibC.AF_INET6, LibC.IPPROTO_MPTCP);
            assertTrue(fd >= 0, () -> "MPTCP socket: " + Errno.describe(-fd));
            try {
                for (int[] o : set) {
                    assertEquals(0, Sock.setInt(fd, o[0], o[1], o[2]), "set " + o[1] + " on MPTCP");
                }
                byte[] linger = {1, 0, 0, 0, 3, 0, 0, 0}; // struct linger {l_onoff 1; l_linger 3}
                assertEquals(0, Sock.setBytes(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger, 8));
                assertEquals(0, Swap.convert(fd, 0, library));
                assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
                for (int[] o : set) {
                    assertEquals(library ? o[2] : 0, Sock.getInt(fd, o[0], o[1]), "option " + o[1] + " after convert(" + library + ")");
                }
                byte[] read = new byte[8];
                assertEquals(8, Sock.getBytes(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, read));
                assertEquals(java.util.Arrays.toString(linger), java.util.Arrays.toString(read));
                assertEquals(0, Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY));
            } finally {
                Sock.close(fd);
            }
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
