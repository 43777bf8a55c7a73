package mptcp.sys;

import java.nio.ByteOrder;

/** Reading raw {@code sockaddr_in} / {@code sockaddr_in6} bytes, as {@link Sock#address} returns them. */
public final class SockAddr {
    private SockAddr() {
    }

    /** sa_family: {@link LibC#AF_INET}, {@link LibC#AF_INET6}, ... (host byte order). */
    public static int family(byte[] sa) {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? (sa[0] & 0xff) | (sa[1] & 0xff) << 8 : (sa[1] & 0xff) | (sa[0] & 0xff) << 8;
    }

    /** The port of a sockaddr_in or sockaddr_in6 (same offset, network byte order). */
    public static int port(byte[] sa) {
        return (sa[2] & 0xFF) << 8 | (sa[3] & 0xFF);
    }

    /**
     * The IP address bytes (4 or 16) of a sockaddr of {@code length} bytes, or null for another family or a short
     * buffer.
     */
    public static byte[] ip(byte[] sa, int length) {
        int family = family(sa);
        if (family == LibC.AF_INET && length >= 8) {
            return java.util.Arrays.copyOfRange(sa, 4, 8);
        }
        if (family == LibC.AF_INET6 && length >= 24) {
            return java.util.Arrays.copyOfRange(sa, 8, 24);
        }
        return null;
    }

    /**
     * A sockaddr for a socket of {@code domain}: sockaddr_in (16 bytes) for AF_INET, whose {@code ip} must have 4 bytes;
     * sockaddr_in6 (28 bytes) for AF_INET6, from 16 bytes, or from 4 as ::ffff:a.b.c.d (how a dual-stack socket
     * reaches an IPv4 peer). Port in network byte order, {@code scopeId} (IPv6 link-local) in host order.
     * @return the sockaddr (its length is the array's), or null when {@code ip} does not fit {@code domain}
     */
    public static byte[] of(int domain, byte[] ip, int port, int scopeId) {
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        byte[] sa;
        if (domain == LibC.AF_INET && ip.length == 4) {
            sa = new byte[16];
            System.arraycopy(ip, 0, sa, 4, 4);
        } else if (domain == LibC.AF_INET6 && (ip.length == 4 || ip.length == 16)) {
            sa = new byte[28];
            if (ip.length == 4) {
                sa[18] = (byte) 0xFF;
                sa[19] = (byte) 0xFF;
                System.arraycopy(ip, 0, sa, 20, 4);
            } else {
                System.arraycopy(ip, 0, sa, 8, 16);
            }
            for (int i = 0; i < 4; i++) {
                sa[24 + i] = (byte) (scopeId >>> (little ? 8 * i : 8 * (3 - i)));
            }
        } else {
            return null;
        }
        sa[little ? 0 : 1] = (byte) domain;
        sa[2] = (byte) (port >>> 8);
        sa[3] = (byte) port;
        return sa;
    }

    /** 1 when {@code sa} is an AF_INET6 address of the form ::ffff:a.b.c.d (an IPv4 peer of a dual-stack socket), else 0. */
    public static int ipv4Mapped(byte[] sa) {
        if (family(sa) != LibC.AF_INET6) {
            return 0;
        }
        for (int i = 8; i < 18; i++) {
            if (sa[i] != 0) {
                return 0;
            }
        }
        return sa[18] == (byte) 0xFF && sa[19] == (byte) 0xFF ? 1 : 0;
    }
}
