package mptcp.agent.paths;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * One look at an MPTCP connection, as the kernel answered {@code getsockopt(SOL_MPTCP, MPTCP_FULL_INFO)} (Linux 6.5+,
 * include/uapi/linux/mptcp.h, net/mptcp/sockopt.c): the connection's token and, per subflow, its id, local address and
 * the {@code struct tcp_info} fields the accounting needs. The kernel fills it under the connection's lock, so the
 * subflows and their figures belong to one moment.
 */
final class View {
    /** struct mptcp_info (Linux 6.10+: 96 bytes; the token at offset 12 is there since 5.7). */
    static final int INFO = 96;
    /** struct mptcp_subflow_info up to the local address: u32 id, 4 bytes of padding, a sockaddr_storage. */
    static final int SFINFO = 8 + 128;
    /**
     * struct tcp_info up to tcpi_total_rto_time (Linux 6.7+); the fields read here (up to tcpi_bytes_retrans) are all
     * there since 4.19. The kernel writes min(this, its own size) per subflow and says which.
     */
    static final int TCPINFO = 248;
    /** Subflows asked for in a first read; a connection with more is read again with room for all (at most MAX). */
    static final int FIRST = 4;
    static final int MAX = 64;

    /** TCP states (include/net/tcp_states.h) as tcpi_state gives them. */
    static final int ESTABLISHED = 1;

    /** mptcpi_token: the connection's identity in its network namespace while it lives. */
    final int token;
    final Subflow[] subflows;

    View(int token, Subflow[] subflows) {
        this.token = token;
        this.subflows = subflows;
    }

    /** One subflow: its id in the connection (1 is the initial subflow), where it is, its tcp_info counters. */
    static final class Subflow {
        final int id;
        /** The local IP address (4 bytes, also for an IPv4-mapped IPv6 address, or 16), or null if unknown. */
        final byte[] local;
        /** sin6_scope_id of a link-local IPv6 address (the interface's index), else 0. */
        final int scope;
        final int state;
        /** tcpi_backoff: retransmission timeouts in a row without an ACK of new data (exponential back-off). */
        final int backoff;
        /** tcpi_unacked: segments sent and not acknowledged. */
        final long unacked;
        /** tcpi_last_ack_recv, tcpi_last_data_recv: milliseconds since an ACK / data last arrived on this subflow. */
        final long lastAckMs;
        final long lastDataMs;
        final long sent;
        final long received;
        final long retransmitted;

        Subflow(int id, byte[] local, int scope, int state, int backoff, long unacked, long lastAckMs, long lastDataMs,
                long sent, long received, long retransmitted) {
            this.id = id;
            this.local = local;
            this.scope = scope;
            this.state = state;
            this.backoff = backoff;
            this.unacked = unacked;
            this.lastAckMs = lastAckMs;
            this.lastDataMs = lastDataMs;
            this.sent = sent;
            this.received = received;
            this.retransmitted = retransmitted;
        }
    }

    /**
     * Reads connection {@code fd}; null when the kernel gives no answer (not an MPTCP socket any more, a connection
     * that fell back to TCP, a kernel before 6.5, a closed fd): {@link #error} then says why.
     */
    static View read(int fd, int[] error) {
        return read(fd, error, true);
    }

    /**
     * {@code token}: also read struct mptcp_info for the token (the kernel then fills all of it, which costs); a last
     * look at a connection being closed by its own fd does without ({@link #token} is then 0).
     */
    static View read(int fd, int[] error, boolean token) {
        int info = token ? INFO : 0;
        int capacity = FIRST;
        for (;;) {
            // a first read goes into this thread's scratch buffer (parse copies out what it keeps): no 1.6 KB array
            // allocated and zeroed per look; a connection with more subflows gets an array of its size
            byte[] b = capacity == FIRST ? SCRATCH.get() : new byte[size(info, capacity)];
            int n = Sock.mptcpFullInfo(fd, b, info, capacity, SFINFO, TCPINFO);
            if (n < 0) {
                error[0] = -n;
                return null;
            }
            if (n <= capacity || capacity == MAX) {
                return parse(b, info, capacity);
            }
            capacity = Math.min(n, MAX);
        }
    }

    /** Room for a first read with the token ({@link #INFO}) and {@link #FIRST} subflows; per thread. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[size(INFO, FIRST)]);

    static int size(int info, int capacity) {
        return Sock.FULL_INFO_HEADER + info + capacity * (SFINFO + TCPINFO);
    }

    /** Parses what {@link Sock#mptcpFullInfo} wrote into {@code b} for {@code info} bytes of mptcp_info, {@code capacity} subflows. */
    static View parse(byte[] b, int info, int capacity) {
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        int tcpStride = h.getInt(4);
        int sfStride = h.getInt(12);
        int count = Math.min(h.getInt(16), capacity);
        int token = info >= 16 ? h.getInt(Sock.FULL_INFO_HEADER + 12) : 0;
        int sfBase = Sock.FULL_INFO_HEADER + info;
        int tcpBase = sfBase + capacity * SFINFO;
        Subflow[] subflows = new Subflow[count];
        for (int i = 0; i < count; i++) {
            int sf = sfBase + i * sfStride;
            int t = tcpBase + i * tcpStride;
            byte[] local = null;
            int scope = 0;
            if (sfStride >= SFINFO) {
                int family = h.getShort(sf + 8) & 0xffff;
                if (family == LibC.AF_INET) {
                    local = java.util.Arrays.copyOfRange(b, sf + 12, sf + 16);
                } else if (family == LibC.AF_INET6) {
                    local = unmapped(java.util.Arrays.copyOfRange(b, sf + 16, sf + 32));
                    scope = local.length == 16 ? h.getInt(sf + 32) : 0;
                }
            }
            subflows[i] = new Subflow(h.getInt(sf), local, scope, b[t] & 0xff, b[t + 4] & 0xff,
                    u32(h, t, 24, tcpStride), u32(h, t, 56, tcpStride), u32(h, t, 52, tcpStride),
                    u64(h, t, 200, tcpStride), u64(h, t, 128, tcpStride), u64(h, t, 208, tcpStride));
        }
        return new View(token, subflows);
    }

    /** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its 4 IPv4 bytes; any other unchanged. */
    static byte[] unmapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return a;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff ? java.util.Arrays.copyOfRange(a, 12, 16) : a;
    }

    private static long u32(ByteBuffer h, int base, int offset, int stride) {
        return offset + 4 <= stride ? Integer.toUnsignedLong(h.getInt(base + offset)) : 0;
    }

    private static long u64(ByteBuffer h, int base, int offset, int stride) {
        return offset + 8 <= stride ? h.getLong(base + offset) : 0;
    }
}
