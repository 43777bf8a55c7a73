package mptcp.agent;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

import mptcp.sys.LibC;
import mptcp.sys.Sock;

/** Socket addresses read from the kernel (getsockname / getpeername), as "127.0.0.1:8080" or "[::1]:8080". */
final class Addresses {
    private Addresses() {
    }

    /** The local ({@code peer} false) or remote address of socket {@code fd}, or null (not connected, closed). */
    static String of(int fd, boolean peer) {
        byte[] b = new byte[28];
        int n = Sock.address(fd, peer, b);
        return n < 0 ? null : format(b, n);
    }

    /** "local remote" of a connected socket, or null. */
    static String key(int fd) {
        String local = of(fd, false);
        String remote = of(fd, true);
        return local == null || remote == null ? null : local + " " + remote;
    }

    /** Formats a raw sockaddr_in / sockaddr_in6; IPv4-mapped IPv6 addresses are shown as IPv4 (like ss). */
    static String format(byte[] sa, int length) {
        int family = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? (sa[0] & 0xff) | (sa[1] & 0xff) << 8 : (sa[1] & 0xff) | (sa[0] & 0xff) << 8;
        int port = (sa[2] & 0xff) << 8 | (sa[3] & 0xff);
        byte[] ip;
        if (family == LibC.AF_INET && length >= 8) {
            ip = java.util.Arrays.copyOfRange(sa, 4, 8);
        } else if (family == LibC.AF_INET6 && length >= 24) {
            ip = java.util.Arrays.copyOfRange(sa, 8, 24);
        } else {
            return null;
        }
        try {
            InetAddress a = InetAddress.getByAddress(ip);
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

    /** "0:0:0:0:0:0:0:1" → "::1": the longest run of zero groups becomes "::" (RFC 5952). */
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
    static boolean isTcpFamily(int fd) {
        int domain = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if (domain != LibC.AF_INET && domain != LibC.AF_INET6) {
            return false;
        }
        int protocol = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
        return Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_TYPE) == LibC.SOCK_STREAM
                && (protocol == LibC.IPPROTO_TCP || protocol == LibC.IPPROTO_MPTCP);
    }
}
