package mptcp.agent.os;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.SockAddr;

/**
 * Socket addresses as the agent shows them everywhere ({@code status}, {@code attach}, logs): "127.0.0.1:8080",
 * "[::1]:8080", IPv4-mapped IPv6 addresses as IPv4 (like ss). Read from the kernel (getsockname / getpeername) or from
 * /proc/net/tcp{,6}.
 */
public final class Addresses {
    private Addresses() {
    }

    /** The local ({@code peer} false) or remote address of socket {@code fd}, or null (not connected, closed). */
    public static String of(int fd, boolean peer) {
        byte[] b = new byte[28];
        int n = Sock.address(fd, peer, b);
        return n < 0 ? null : format(b, n);
    }

    /** "local remote" of a connected socket, or null. */
    public static String key(int fd) {
        String local = of(fd, false);
        String remote = of(fd, true);
        return local == null || remote == null ? null : local + " " + remote;
    }

    /** Formats a raw sockaddr_in / sockaddr_in6 of {@code length} bytes; null for another family. */
    public static String format(byte[] sa, int length) {
        byte[] ip = SockAddr.ip(sa, length);
        return ip == null ? null : formatIp(ip, SockAddr.port(sa));
    }

    /** "0100007F:1F90" (a /proc/net/tcp address) → "127.0.0.1:8080"; tcp6 form → "[::1]:8080". */
    public static String fromProcNet(String hex) {
        int colon = hex.indexOf(':');
        String ip = hex.substring(0, colon);
        int port = Integer.parseInt(hex.substring(colon + 1), 16);
        byte[] b = new byte[ip.length() / 2];
        // the kernel prints each 32-bit word in host (little-endian) order
        for (int word = 0; word < b.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                b[word * 4 + i] = (byte) Integer.parseInt(ip.substring(at, at + 2), 16);
            }
        }
        String text = formatIp(b, port);
        return text == null ? hex : text;
    }

    /** An IPv4 (4 bytes) or IPv6 (16 bytes) address and a port, as shown everywhere; null for other lengths. */
    static String formatIp(byte[] ip, int port) {
        try {
            InetAddress a = InetAddress.getByAddress(ip); // IPv4-mapped IPv6 bytes come back as an Inet4Address
            String text = a.getHostAddress();
            if (a instanceof Inet6Address) {
                int pct = text.indexOf('%');
                text = "[" + compress(pct < 0 ? text : text.substring(0, pct)) + "]";
            }
            return text + ":" + port;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** "0:0:0:0:0:0:0:1" → "::1": the longest run of two or more zero groups becomes "::" (RFC 5952). */
    static String compress(String full) {
        String[] g = full.split(":");
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < g.length; ) {
            if (g[i].equals("0")) {
                int j = i;
                while (j < g.length && g[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return full;
        }
        String head = String.join(":", java.util.Arrays.copyOfRange(g, 0, bestStart));
        String tail = String.join(":", java.util.Arrays.copyOfRange(g, bestStart + bestLen, g.length));
        return head + "::" + tail;
    }

    /** True when {@code fd} is an AF_INET / AF_INET6 stream socket of protocol TCP or MPTCP. */
    public static boolean isTcpFamily(int fd) {
        int domain = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain != LibC.AF_INET && domain != LibC.AF_INET6) {
            return false;
        }
        int protocol = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
        return Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_TYPE) == LibC.SOCK_STREAM
                && (protocol == LibC.IPPROTO_TCP || protocol == LibC.IPPROTO_MPTCP);
    }
}
