package mptcp.agent.paths;

import java.nio.ByteBuffer;

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
    /**
     * struct mptcp_subflow_info up to the local address's scope: u32 id, 4 bytes of padding, the start of a
     * sockaddr_storage as far as a sockaddr_in6 goes (family, port, flow info, address, scope id). The kernel writes
     * min(this, its own size) per subflow and says which: asking less than the whole structure costs it less copying.
     */
    static final int SFINFO = 8 + 28 + 4;
    /**
     * struct tcp_info up to tcpi_bytes_retrans (offset 208, 8 bytes), the last field read here; all of them are there
     * since Linux 4.19. The kernel writes min(this, its own size) per subflow and says which.
     */
    static final int TCPINFO = 216;
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
     * {@code token}: also read struct mptcp_info for the token (more for the kernel to copy); a last look at a
     * connection being closed by its own fd does without ({@link #token} is then 0).
     */
    static View read(int fd, int[] error, boolean token) {
        int info = token ? INFO : 0;
        int capacity = FIRST;
        for (;;) {
            // a first read goes into a pooled buffer: no native memory allocated per look; a connection with more
            // subflows gets a buffer of its size
            boolean pooled = capacity == FIRST;
            Sock.FullInfo b = pooled ? POOL.take() : new Sock.FullInfo(size(info, capacity));
            try {
                int n = Sock.mptcpFullInfo(fd, b, info, capacity, SFINFO, TCPINFO);
                if (n < 0) {
                    error[0] = -n;
                    return null;
                }
                if (n <= capacity || capacity == MAX) {
                    return parse(b.bytes, info, capacity);
                }
                capacity = Math.min(n, MAX);
            } finally {
                if (pooled) {
                    POOL.giveBack(b);
                }
            }
        }
    }

    /**
     * Buffers for a first read ({@link #INFO} and {@link #FIRST} subflows), shared by all threads without a lock: a
     * thread takes one out of a slot and puts it back; when all are out, a new one is made, kept if a slot is free
     * when it comes back. Not per thread: an application that runs each connection on a thread of its own (virtual
     * threads) would make one per connection.
     */
    static final class Pool {
        private static final int SLOTS = 8;
        /**
         * The slots, 16 references apart (64 bytes with compressed references): two threads taking and putting back
         * their buffers do not write to one cache line.
         */
        private static final int SPREAD = 16;
        private final java.util.concurrent.atomic.AtomicReferenceArray<Sock.FullInfo> slots =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(SLOTS * SPREAD);

        Sock.FullInfo take() {
            int start = (int) Thread.currentThread().getId();
            for (int i = 0; i < SLOTS; i++) {
                int k = ((start + i) & (SLOTS - 1)) * SPREAD;
                Sock.FullInfo b = slots.get(k);
                if (b != null && slots.compareAndSet(k, b, null)) {
                    return b;
                }
            }
            return new Sock.FullInfo(size(INFO, FIRST));
        }

        void giveBack(Sock.FullInfo b) {
            int start = (int) Thread.currentThread().getId();
            for (int i = 0; i < SLOTS; i++) {
                int k = ((start + i) & (SLOTS - 1)) * SPREAD;
                if (slots.get(k) == null && slots.compareAndSet(k, null, b)) {
                    return;
                }
            }
        }
    }

    private static final Pool POOL = new Pool();

    static int size(int info, int capacity) {
        return Sock.FULL_INFO_HEADER + info + capacity * (SFINFO + TCPINFO);
    }

    /**
     * Parses what {@link Sock#mptcpFullInfo} wrote into {@code h} (the machine's byte order, the structures from
     * offset 0) for {@code info} bytes of mptcp_info, {@code capacity} subflows.
     */
    static View parse(ByteBuffer h, int info, int capacity) {
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
            if (sfStride >= 8 + 8) {
                int family = h.getShort(sf + 8) & 0xffff;
                if (family == LibC.AF_INET) {
                    local = new byte[4];
                    h.get(sf + 12, local);
                } else if (family == LibC.AF_INET6 && sfStride >= 8 + 28) {
                    if (h.getLong(sf + 16) == 0 && h.getInt(sf + 24) == MAPPED) {
                        local = new byte[4]; // ::ffff:a.b.c.d, a dual-stack socket's IPv4 address
                        h.get(sf + 28, local);
                    } else {
                        local = new byte[16];
                        h.get(sf + 16, local);
                        scope = h.getInt(sf + 32);
                    }
                }
            }
            subflows[i] = new Subflow(h.getInt(sf), local, scope, h.get(t) & 0xff, h.get(t + 4) & 0xff,
                    u32(h, t, 24, tcpStride), u32(h, t, 56, tcpStride), u32(h, t, 52, tcpStride),
                    u64(h, t, 200, tcpStride), u64(h, t, 128, tcpStride), u64(h, t, 208, tcpStride));
        }
        return new View(token, subflows);
    }

    /** Bytes 8-11 of an IPv4-mapped IPv6 address (0, 0, 0xff, 0xff) read as an int in the machine's order. */
    private static final int MAPPED = ByteBuffer.wrap(new byte[] {0, 0, (byte) 0xff, (byte) 0xff})
            .order(java.nio.ByteOrder.nativeOrder()).getInt();

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
