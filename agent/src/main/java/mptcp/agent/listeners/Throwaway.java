package mptcp.agent.listeners;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import mptcp.sys.LibC;

/**
 * Local addresses on the same port as a listener that conflict with it in no way, to bind a throwaway socket to (see
 * Handoff#closeReusePort): raw sockaddrs (byte 0 holds the family, as on little-endian Linux). None for a dual-stack
 * wildcard listener, which conflicts with every address.
 */
final class Throwaway {
    private static final byte[] V4_LOOPBACK = {127, 0, 0, 1};
    private static final byte[] V4_LOOPBACK_2 = {127, 0, 0, 2};
    private static final byte[] V6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    private Throwaway() {
    }

    static List<byte[]> candidates(byte[] sa, int length) {
        int family = (sa[0] & 0xFF) | (sa[1] & 0xFF) << 8;
        byte[] port = {sa[2], sa[3]};
        List<byte[]> out = new ArrayList<>();
        if (family == LibC.AF_INET) {
            byte[] ip = Arrays.copyOfRange(sa, 4, 8);
            if (Arrays.equals(ip, new byte[4])) {
                out.add(v6(port, V6_LOOPBACK)); // 0.0.0.0 conflicts with every IPv4 address, not with an IPv6-only socket
            } else {
                out.add(v4(port, Arrays.equals(ip, V4_LOOPBACK) ? V4_LOOPBACK_2 : V4_LOOPBACK));
            }
            return out;
        }
        if (family != LibC.AF_INET6 || length < 24) {
            return out;
        }
        byte[] ip = Arrays.copyOfRange(sa, 8, 24);
        boolean any = Arrays.equals(ip, new byte[16]);
        boolean mapped = Arrays.equals(Arrays.copyOfRange(ip, 0, 12), new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1});
        if (any) {
            return out; // dual-stack or IPv6-only wildcard: the caller knows v6only; only the latter has a way out
        }
        if (mapped) {
            byte[] v4 = Arrays.copyOfRange(ip, 12, 16);
            out.add(v4(port, Arrays.equals(v4, V4_LOOPBACK) ? V4_LOOPBACK_2 : V4_LOOPBACK));
        } else {
            out.add(Arrays.equals(ip, V6_LOOPBACK) ? v4(port, V4_LOOPBACK) : v6(port, V6_LOOPBACK));
            out.add(v4(port, V4_LOOPBACK));
        }
        return out;
    }

    /** For an IPv6-only wildcard listener ([::] with IPV6_V6ONLY=1): IPv4 addresses do not conflict with it. */
    static List<byte[]> forV6Only(byte[] sa) {
        return List.of(v4(new byte[] {sa[2], sa[3]}, V4_LOOPBACK));
    }

    private static byte[] v4(byte[] port, byte[] ip) {
        byte[] b = new byte[16];
        b[0] = (byte) LibC.AF_INET;
        b[2] = port[0];
        b[3] = port[1];
        System.arraycopy(ip, 0, b, 4, 4);
        return b;
    }

    private static byte[] v6(byte[] port, byte[] ip) {
        byte[] b = new byte[28];
        b[0] = (byte) LibC.AF_INET6;
        b[2] = port[0];
        b[3] = port[1];
        System.arraycopy(ip, 0, b, 8, 16);
        return b;
    }
}
