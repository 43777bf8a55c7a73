package mptcp.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class SockAddrTest {
    private static byte[] v6(int... tail) {
        byte[] sa = new byte[28];
        sa[0] = LibC.AF_INET6; // little-endian sa_family
        sa[2] = 0x1b;
        sa[3] = 0x58; // port 7000
        for (int i = 0; i < tail.length; i++) {
            sa[24 - tail.length + i] = (byte) tail[i];
        }
        return sa;
    }

    @Test
    void familyPortAndAddressBytes() {
        byte[] v4 = {LibC.AF_INET, 0, 0x1f, (byte) 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(LibC.AF_INET, SockAddr.family(v4));
        assertEquals(8080, SockAddr.port(v4));
        assertArrayEquals(new byte[] {10, 1, 2, 3}, SockAddr.ip(v4, 16));
        assertNull(SockAddr.ip(v4, 6), "short");
        byte[] loop6 = v6(1);
        assertEquals(LibC.AF_INET6, SockAddr.family(loop6));
        assertEquals(7000, SockAddr.port(loop6));
        assertEquals(16, SockAddr.ip(loop6, 28).length);
        assertEquals(1, SockAddr.ip(loop6, 28)[15]);
    }

    @Test
    void ipv4MappedIsOnlyTheFfffPrefix() {
        assertEquals(1, SockAddr.ipv4Mapped(v6(0xff, 0xff, 127, 0, 0, 1)));
        assertEquals(0, SockAddr.ipv4Mapped(v6(0, 0, 127, 0, 0, 1)), "IPv4-compatible (deprecated) is not mapped");
        assertEquals(0, SockAddr.ipv4Mapped(v6(1)), "::1");
        byte[] v4 = {LibC.AF_INET, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(0, SockAddr.ipv4Mapped(v4), "an AF_INET address is not a mapped one");
    }
}
