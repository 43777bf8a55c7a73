package mptcp.agent.listeners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import mptcp.agent.config.Config;
import mptcp.agent.os.EpollRegistrations;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/** The hand-over in this JVM, on loopback, read back from the kernel (SO_PROTOCOL, /proc/self/fdinfo). */
class ListenersTest {
    /** loopback=mptcp: the listeners of these tests are on loopback, which the default keeps TCP. */
    private static final Config ON = Config.parse("loopback=mptcp", k -> null, k -> null);

    /** As the agent's warm-up does first: Sock's int options take native scratch memory before touching the binding. */
    @org.junit.jupiter.api.BeforeAll
    static void loadTheNativeBinding() {
        Sock.load();
    }

    /**
     * The roll-back and back again, on the same selector: enabled=false hands the MPTCP listener back to a TCP
     * listener under the same fd (its epoll registration re-added, nothing left joinable), enabled=true converts it
     * again; the selector reports OP_ACCEPT after each.
     */
    @Test
    void handedBackToTcpAndConvertedAgainOnTheSameFd() throws Exception {
        try (ServerSocketChannel ch = ServerSocketChannel.open(); Selector selector = Selector.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_ACCEPT);
            selector.selectNow();
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            int fd = fdOf(port);
            Listeners.reconcile(ON, true);
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd));
            Config off = ON.with("enabled=false", "test");
            for (Config c : List.of(off, ON)) {
                List<String> lines = Listeners.reconcile(c, false);
                String done = c.enabled ? "): converted to MPTCP in " : "): handed back to TCP (enabled=false) in ";
                assertTrue(lines.stream().anyMatch(l -> l.contains(":" + port + " (fd " + fd + done)), lines.toString());
                assertEquals(c.enabled ? LibC.IPPROTO_MPTCP : LibC.IPPROTO_TCP, Sock.protocol(fd), "same fd number");
                assertEquals(0, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT), "nothing left joinable");
                assertEquals(1, EpollRegistrations.of(fd, Listeners.listeningTcpFds().get(fd)).size(), "re-added");
                try (SocketChannel client = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    assertEquals(1, selector.select(5000), "OP_ACCEPT still reported");
                    selector.selectedKeys().clear();
                    try (SocketChannel accepted = ch.accept()) {
                        assertNotNull(accepted);
                    }
                }
                assertTrue(Listeners.reconcile(c, false).stream().noneMatch(l -> l.contains("(fd " + fd + ")")),
                        "nothing more to do for it: no line");
            }
        }
    }

    /** A tcp bind rule given at run time hands that listener back to TCP; the one the rule does not name stays MPTCP. */
    @Test
    void aRuleGivenAtRunTimeHandsItsListenerBack() throws Exception {
        try (ServerSocketChannel a = ServerSocketChannel.open(); ServerSocketChannel b = ServerSocketChannel.open()) {
            a.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int portA = ((InetSocketAddress) a.getLocalAddress()).getPort();
            int portB = ((InetSocketAddress) b.getLocalAddress()).getPort();
            Listeners.reconcile(ON, true);
            List<String> lines = Listeners.reconcile(ON.with("rules=tcp bind * " + portB, "attach, uid 0"), false);
            assertTrue(lines.stream().anyMatch(l -> l.contains(":" + portB + " (fd " + fdOf(portB) + "): handed back to TCP"
                    + " (rule 'tcp bind * " + portB + "' (attach, uid 0, rule 1)) in ")), lines.toString());
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fdOf(portB)));
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fdOf(portA)));
        }
    }

    @Test
    void selectorKeepsAcceptingOnTheSameFdAfterTheHandOver() throws Exception {
        try (ServerSocketChannel ch = ServerSocketChannel.open(); Selector selector = Selector.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_ACCEPT);
            selector.selectNow(); // the JDK registers with epoll at the next select
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            int fd = fdOf(port);
            long inode = Listeners.listeningTcpFds().get(fd);
            assertEquals(1, EpollRegistrations.of(fd, inode).size(), "the selector's registration, read from fdinfo");

            List<String> lines = Listeners.reconcile(ON, true);
            assertTrue(lines.stream().anyMatch(l -> l.contains(":" + port + " (fd " + fd + "): converted to MPTCP")), lines.toString());
            assertEquals(LibC.IPPROTO_MPTCP, Sock.protocol(fd), "same fd number, now an MPTCP listener");
            assertEquals(0, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT), "nothing left joinable");
            assertEquals(1, EpollRegistrations.of(fd, Listeners.listeningTcpFds().get(fd)).size(), "re-added for the new file");

            try (SocketChannel client = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                assertEquals(1, selector.select(5000), "OP_ACCEPT still reported");
                try (SocketChannel accepted = ch.accept()) {
                    assertNotNull(accepted);
                }
            }
        }
    }

    @Test
    void applicationsOwnReuseportGroupIsLeftAlone() throws Exception {
        try (ServerSocketChannel ch = ServerSocketChannel.open()) {
            ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            int fd = fdOf(port);
            List<String> lines = Listeners.reconcile(ON, true);
            assertTrue(lines.stream().anyMatch(l -> l.contains("(fd " + fd + "): kept TCP: the application set SO_REUSEPORT")),
                    lines.toString());
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
            assertEquals(1, Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT));
        }
    }

    @Test
    void aTcpBindRuleKeepsItsListenersTcp() throws Exception {
        try (ServerSocketChannel ch = ServerSocketChannel.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            int fd = fdOf(port);
            // the default loopback=tcp: sockets bound to loopback addresses stay plain TCP
            List<String> lines = Listeners.reconcile(mptcp.agent.config.Config.defaults(), true);
            assertTrue(lines.stream().anyMatch(l -> l.contains("(fd " + fd + "): kept TCP: rule 'tcp bind 127.0.0.0/8' (loopback=tcp)")),
                    lines.toString());
            assertEquals(LibC.IPPROTO_TCP, Sock.protocol(fd));
        }
    }

    @Test
    void throwawayAddressesConflictWithNothing() {
        byte[] v4 = {2, 0, 0x1F, (byte) 0x90, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        List<byte[]> c = Throwaway.candidates(v4, 16);
        assertEquals(1, c.size());
        assertEquals("127.0.0.1:8080", mptcp.agent.os.Addresses.format(c.get(0), 16));
        byte[] loop = v4.clone();
        loop[4] = 127;
        loop[7] = 1;
        assertEquals("127.0.0.2:8080", mptcp.agent.os.Addresses.format(Throwaway.candidates(loop, 16).get(0), 16));
        byte[] dualAny = new byte[28];
        dualAny[0] = 10;
        dualAny[2] = 0x1F;
        dualAny[3] = (byte) 0x90;
        assertTrue(Throwaway.candidates(dualAny, 28).isEmpty(), "a dual-stack wildcard conflicts with every address");
        assertEquals("[::1]:8080", mptcp.agent.os.Addresses.format(Throwaway.candidates(new byte[] {2, 0, 0x1F, (byte) 0x90,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16).get(0), 28));
    }

    private static int fdOf(int port) {
        for (Map.Entry<Integer, Long> e : Listeners.listeningTcpFds().entrySet()) {
            byte[] sa = new byte[28];
            int n = Sock.address(e.getKey(), false, sa);
            if (n > 0 && ((sa[2] & 0xFF) << 8 | (sa[3] & 0xFF)) == port) {
                return e.getKey();
            }
        }
        throw new AssertionError("no listener on port " + port);
    }
}
