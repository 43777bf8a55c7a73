package mptcp.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class AddressesTest {
    @Test
    void compressesTheLongestRunOfZeroGroups() {
        assertEquals("::1", Addresses.compress("0:0:0:0:0:0:0:1"));
        assertEquals("::", Addresses.compress("0:0:0:0:0:0:0:0"));
        assertEquals("fe80::1", Addresses.compress("fe80:0:0:0:0:0:0:1"));
        assertEquals("2001:db8::1:0:0:1", Addresses.compress("2001:db8:0:0:1:0:0:1"));
        assertEquals("2001:db8:0:1:1:1:1:1", Addresses.compress("2001:db8:0:1:1:1:1:1"), "a single zero group stays");
    }

    @Test
    void formatsRawSockaddrs() {
        byte[] v4 = {2, 0, 0x1f, (byte) 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        assertEquals("127.0.0.1:8080", Addresses.format(v4, 16));
        byte[] v6 = new byte[28];
        v6[0] = 10;
        v6[3] = 80;
        v6[23] = 1;
        assertEquals("[::1]:80", Addresses.format(v6, 28));
        byte[] mapped = new byte[28];
        mapped[0] = 10;
        mapped[2] = 0x1b;
        mapped[3] = 0x58;
        mapped[18] = (byte) 0xff;
        mapped[19] = (byte) 0xff;
        mapped[20] = 10;
        mapped[23] = 7;
        assertEquals("10.0.0.7:7000", Addresses.format(mapped, 28), "IPv4-mapped shown as IPv4, like ss");
        assertNull(Addresses.format(new byte[] {1, 0, 0, 0}, 4), "AF_UNIX is not an IP address");
        assertNull(Addresses.format(v6, 20), "too short for sockaddr_in6");
    }

    @Test
    void decodesProcNetTheSameWayAsStatus() {
        assertEquals("127.0.0.1:8080", Addresses.fromProcNet("0100007F:1F90"));
        assertEquals("0.0.0.0:22", Addresses.fromProcNet("00000000:0016"));
        assertEquals("[::1]:8080", Addresses.fromProcNet("00000000000000000000000001000000:1F90"));
        assertEquals("[::]:443", Addresses.fromProcNet("00000000000000000000000000000000:01BB"));
        assertEquals("10.0.0.7:7000", Addresses.fromProcNet("0000000000000000FFFF00000700000A:1B58"));
    }
}
