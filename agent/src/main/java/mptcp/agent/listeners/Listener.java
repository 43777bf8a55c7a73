package mptcp.agent.listeners;

import java.util.Arrays;

import mptcp.agent.os.Addresses;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/** What the kernel says about one listening socket of this process, read through its fd before the hand-over. */
final class Listener {
    /** Integer options a listener hands down to the connections it accepts, or that shape the listener itself. */
    static final int[][] OPTIONS = {
        // level, name, 1 when the kernel reports twice the value set
        {LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, 0},
        {LibC.SOL_SOCKET, LibC.SO_RCVBUF, 1},
        {LibC.SOL_SOCKET, LibC.SO_SNDBUF, 1},
        {LibC.IPPROTO_IP, LibC.IP_TOS, 0},
        {LibC.SOL_TCP, LibC.TCP_NODELAY, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPIDLE, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPINTVL, 0},
        {LibC.SOL_TCP, LibC.TCP_KEEPCNT, 0},
        {LibC.SOL_TCP, 9, 0}, // TCP_DEFER_ACCEPT
        {LibC.SOL_TCP, 23, 0}, // TCP_FASTOPEN (the queue length)
        {LibC.IPPROTO_IP, 15, 0}, // IP_FREEBIND
    };
    static final String[] OPTION_NAMES = {"SO_KEEPALIVE", "SO_RCVBUF", "SO_SNDBUF", "IP_TOS", "TCP_NODELAY",
        "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_DEFER_ACCEPT", "TCP_FASTOPEN", "IP_FREEBIND"};

    final int fd;
    final long inode;
    int protocol;
    int domain;
    final byte[] address = new byte[128];
    int addressLength;
    int v6only;
    int reuseAddress;
    int reusePort;
    /** SO_BINDTODEVICE, empty when not bound to a device. */
    byte[] device = new byte[0];
    /** The listen backlog (tcpi_sacked of a listener). */
    int backlog;
    int statusFlags;
    int fdFlags;
    final int[] options = new int[OPTIONS.length];
    final byte[] linger = new byte[8];

    Listener(int fd, long inode) {
        this.fd = fd;
        this.inode = inode;
    }

    /** Reads everything the hand-over needs; returns null, or why this listener cannot be read. */
    String read() {
        protocol = Sock.protocol(fd);
        domain = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        addressLength = Sock.address(fd, false, address);
        if (protocol < 0 || domain < 0 || addressLength < 0) {
            return "cannot read the socket (" + Math.min(protocol, Math.min(domain, addressLength)) + ")";
        }
        v6only = domain == LibC.AF_INET6 ? Sock.getInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY) : 1;
        reuseAddress = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR);
        reusePort = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT);
        byte[] dev = new byte[32];
        int n = Sock.getBytes(fd, LibC.SOL_SOCKET, mptcp.sys.Handover.SO_BINDTODEVICE, dev);
        if (n > 0) {
            int end = 0;
            while (end < n && dev[end] != 0) {
                end++;
            }
            device = Arrays.copyOf(dev, end);
        }
        int[] info = tcpInfoQueue(fd);
        backlog = info == null ? 0 : info[1];
        statusFlags = Sock.statusFlags(fd);
        fdFlags = mptcp.sys.Handover.fdFlags(fd);
        for (int i = 0; i < OPTIONS.length; i++) {
            options[i] = Sock.getInt(fd, OPTIONS[i][0], OPTIONS[i][1]);
        }
        Sock.getBytes(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger);
        if (v6only < 0 || reuseAddress < 0 || reusePort < 0 || statusFlags < 0 || fdFlags < 0 || info == null) {
            return "cannot read the socket's options";
        }
        return null;
    }

    /** {current accept queue length, max backlog} of a listener (tcpi_unacked, tcpi_sacked), or null. */
    static int[] tcpInfoQueue(int fd) {
        byte[] info = new byte[104];
        int n = Sock.getBytes(fd, LibC.SOL_TCP, LibC.TCP_INFO, info);
        if (n < 32) {
            return null;
        }
        return new int[] {le(info, 24), le(info, 28)};
    }

    private static int le(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    /** "127.0.0.1:8080", "[::]:8080" (like ss). */
    String text() {
        String t = Addresses.format(address, addressLength);
        return t == null ? "fd " + fd : t;
    }
}
