package mptcp.agent.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

/** The hints a Netty socket gets when it is made: the IPv4 literal of an unresolved address, the verdict, take once. */
class CreationHintsTest {
    @Test
    void ipv4Literals() {
        assertEquals(0x7F00_0001L, CreationHints.ipv4("127.0.0.1"));
        assertEquals(0xFFFF_FFFFL, CreationHints.ipv4("255.255.255.255"));
        assertEquals(0L, CreationHints.ipv4("0.0.0.0"));
        for (String no : new String[] {"", "localhost", "127.0.0", "127.0.0.1.", "127.0.0.1.5", "256.0.0.1", "1.2.3.04",
                "1..2.3", "::1", "1.2.3.4 ", "-1.2.3.4", "1234.1.1.1"}) {
            assertEquals(-1, CreationHints.ipv4(no), no);
        }
    }

    /** By default (loopback=tcp): loopback kept TCP, resolved or an unresolved literal; a host name is not known yet. */
    @Test
    void verdicts() throws Exception {
        assertEquals(CreationHints.TCP, CreationHints.verdict(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 80)));
        assertEquals(CreationHints.TCP, CreationHints.verdict(InetSocketAddress.createUnresolved("127.0.0.1", 80)));
        assertEquals(CreationHints.TCP, CreationHints.verdict(new InetSocketAddress(InetAddress.getByName("::1"), 80)));
        assertEquals(CreationHints.MPTCP, CreationHints.verdict(InetSocketAddress.createUnresolved("10.1.2.3", 80)));
        assertEquals(CreationHints.NOT_KNOWN, CreationHints.verdict(InetSocketAddress.createUnresolved("localhost", 80)));
        assertEquals(CreationHints.NOT_KNOWN, CreationHints.verdict("not an address"));
    }

    @Test
    void takenOnce() {
        CreationHints.role(CreationHints.CLIENT);
        CreationHints.connectingTo(InetSocketAddress.createUnresolved("127.0.0.1", 80));
        CreationHints h = CreationHints.current();
        assertEquals(CreationHints.CLIENT, h.takeRole());
        assertEquals(CreationHints.TCP, h.takeVerdict());
        assertEquals(CreationHints.UNKNOWN, h.takeRole());
        assertEquals(CreationHints.NOT_KNOWN, h.takeVerdict());
    }
}
