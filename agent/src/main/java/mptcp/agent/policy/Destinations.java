package mptcp.agent.policy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import mptcp.agent.config.AddressPrefix;
import mptcp.agent.config.Rules;
import mptcp.agent.log.Log;

/**
 * What the connect race ({@link Races}) learned about destinations (address, port), for a while:
 * <ul>
 *   <li>{@link #SUSPECT}: once, its MPTCP SYN went unanswered while a plain TCP connect to it was answered. One lost
 *       SYN proves little (an overloaded listener whose accept queue is full drops SYNs of both kinds: seen with 64
 *       threads against one server), so connects to it are still raced as usual; a second such race, within
 *       {@code blackhole_ttl}, makes it a blackhole, an MPTCP answer clears it.</li>
 *   <li>{@link #BLACKHOLE}: its MPTCP SYNs went unanswered twice while plain TCP answered. Connections to it are made
 *       plain TCP at once (before connect) until the entry expires: {@code blackhole_ttl}, doubled each time the
 *       destination drops MPTCP again after expiring, at most 64 times (as the kernel's own blackhole_timeout
 *       back-off). An expired entry is kept as the back-off level: the next connect tries MPTCP again (with the race),
 *       and one race lost by MPTCP then suffices; if MPTCP answers, the destination is forgotten.</li>
 *   <li>{@link #SLOW}: MPTCP answered, but late (in more than half the race delay): the race waits twice that long
 *       for it (at most {@link #MAX_DELAY_MILLIS}), so that a far destination is not dialled twice; kept for
 *       {@code blackhole_ttl}, not doubled.</li>
 * </ul>
 * Per destination, not per path: a path that drops MPTCP for every destination costs one race delay per destination
 * and TTL (docs/blackholes.md says why and what was measured). Bounded: at most {@link #MAX} entries; when full, the
 * one closest to expiry goes.
 *
 * <p>Lookups happen before every connect the race covers: when nothing is remembered, one volatile read; otherwise an
 * open-addressing probe on primitives (an IPv6 address is copied once, an IPv4 one not at all). The table is copied on
 * write (learning is rare) and read without a lock.
 */
public final class Destinations {
    public static final int BLACKHOLE = 1;
    public static final int SLOW = 2;
    public static final int SUSPECT = 3;
    static final int MAX = 1024;
    /** The longest the race waits for a slow destination: the kernel retransmits an unanswered SYN after 1 s anyway. */
    static final int MAX_DELAY_MILLIS = 1000;
    private static final int MAX_LEVEL = 7; // 1, 2, 4 ... 64 times the TTL

    /** Connections made plain TCP at once because their destination is remembered as a blackhole. */
    public static final LongAdder CONNECTIONS_TCP_BLACKHOLE = new LongAdder();
    /** Destinations learned as blackholes (each time, also again after a probe). */
    public static final LongAdder LEARNED = new LongAdder();

    /** One remembered destination. Its fields change only under the class lock (and are read without it). */
    public static final class Entry {
        final long hi;
        final long lo;
        final int port;
        volatile int kind;
        /** BLACKHOLE: how many times in a row (the TTL is doubled level - 1 times). */
        volatile int level;
        /** System.nanoTime() when the entry expires. */
        volatile long expires;
        volatile long ttlMillis;
        /** SLOW: how long MPTCP took to answer; BLACKHOLE: how long MPTCP went unanswered before TCP answered. */
        volatile long mptcpMillis;
        /** BLACKHOLE: how long plain TCP took to answer. */
        volatile long tcpMillis;
        final LongAdder tcpAtOnce = new LongAdder();

        Entry(long hi, long lo, int port) {
            this.hi = hi;
            this.lo = lo;
            this.port = port;
        }

        public String destination() {
            return where(hi, lo, port);
        }

        /** "blackhole", "suspect" or "slow". */
        public String reason() {
            return kind == BLACKHOLE ? "blackhole" : kind == SUSPECT ? "suspect" : "slow";
        }

        /** Milliseconds until the entry expires, negative once expired. */
        public long expiresInMillis() {
            return (expires - System.nanoTime()) / 1_000_000L;
        }

        /** One line for status: what was seen, what the agent does, until when. */
        public String describe() {
            long left = expiresInMillis();
            if (kind == BLACKHOLE) {
                return where(hi, lo, port) + "  blackhole: MPTCP SYN unanswered for " + mptcpMillis + " ms, plain TCP"
                        + " answered in " + tcpMillis + " ms;  " + (left > 0 ? "plain TCP at once for " + seconds(left)
                        : "MPTCP tried again at the next connect (expired " + seconds(-left) + " ago)")
                        + "  ttl=" + seconds(ttlMillis) + "  backoff=" + level + "  connections_tcp=" + tcpAtOnce.sum();
            }
            if (kind == SUSPECT) {
                return where(hi, lo, port) + "  suspect: MPTCP SYN unanswered for " + mptcpMillis + " ms once, plain TCP"
                        + " answered in " + tcpMillis + " ms;  " + (left > 0 ? "a second time within " + seconds(left)
                        + " makes it a blackhole" : "expired");
            }
            return where(hi, lo, port) + "  slow: MPTCP answered in " + mptcpMillis + " ms;  race delay "
                    + delayMillis(this, 0) + " ms for " + seconds(Math.max(0, left));
        }
    }

    private static final class Table {
        final long[] his;
        final long[] los;
        final int[] ports;
        final Entry[] entries;
        final int size;

        Table(int capacity, int size) {
            his = new long[capacity];
            los = new long[capacity];
            ports = new int[capacity];
            entries = new Entry[capacity];
            this.size = size;
        }
    }

    private static volatile Table table = new Table(0, 0);
    /** Destinations already named in an INFO line, bounded. */
    private static final Set<String> NAMED = ConcurrentHashMap.newKeySet();

    private Destinations() {
    }

    /** Whether anything is remembered (one volatile read): callers skip the lookup otherwise. */
    static boolean any() {
        return table.size != 0;
    }

    /** The entry of {@code address}:{@code port}, or null. Allocates nothing for IPv4. */
    static Entry find(InetAddress address, int port) {
        Table t = table;
        if (t.size == 0 || address == null) {
            return null;
        }
        if (address instanceof Inet4Address) {
            return find(t, 0, AddressPrefix.MAPPED | (address.hashCode() & 0xFFFF_FFFFL), port);
        }
        byte[] b = address.getAddress();
        return find(t, Rules.longAt(b, 0), Rules.longAt(b, 8), port);
    }

    private static Entry find(Table t, long hi, long lo, int port) {
        int mask = t.entries.length - 1;
        for (int i = hash(hi, lo, port) & mask, n = 0; n <= mask; i = (i + 1) & mask, n++) {
            Entry e = t.entries[i];
            if (e == null) {
                return null;
            }
            if (t.ports[i] == port && t.los[i] == lo && t.his[i] == hi) {
                return e;
            }
        }
        return null;
    }

    private static int hash(long hi, long lo, int port) {
        long h = (hi * 31 + lo) * 31 + port;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ h >>> 32);
    }

    /** Whether a connect to the destination of {@code e} goes plain TCP at once now. */
    static boolean tcpAtOnce(Entry e) {
        return e != null && e.kind == BLACKHOLE && e.expires - System.nanoTime() > 0;
    }

    /** The race delay for a destination with entry {@code e} (may be null): {@code base}, or longer for a slow one. */
    static long delayMillis(Entry e, int base) {
        int configured = base > 0 ? base : Policy.config().raceDelayMillis;
        if (e == null || e.kind != SLOW || e.expires - System.nanoTime() <= 0) {
            return configured;
        }
        return Math.max(configured, Math.min(MAX_DELAY_MILLIS, 2 * e.mptcpMillis));
    }

    /**
     * A race was won by plain TCP: the MPTCP attempt went unanswered for {@code mptcpMillis} while plain TCP answered in
     * {@code tcpMillis}. The first time the destination becomes a {@link #SUSPECT}; a suspect, or a blackhole whose
     * entry expired (a probe), becomes a blackhole (the back-off level grows only then: races of connects made before
     * the destination was remembered change nothing).
     */
    static void blackhole(InetAddress address, int port, long mptcpMillis, long tcpMillis) {
        Entry e;
        long ttl;
        synchronized (Destinations.class) {
            e = entry(address, port);
            boolean live = e.expires - System.nanoTime() > 0;
            if (e.kind == BLACKHOLE && live) {
                return; // already remembered: a connect registered before it was
            }
            ttl = Policy.config().blackholeTtlSeconds * 1000L;
            e.mptcpMillis = mptcpMillis;
            e.tcpMillis = tcpMillis;
            if (e.kind != BLACKHOLE && !(e.kind == SUSPECT && live)) {
                e.kind = SUSPECT; // first evidence (or the last one too old)
                e.ttlMillis = ttl;
                e.expires = System.nanoTime() + ttl * 1_000_000L;
                if (Log.enabled(Log.Level.DEBUG)) {
                    Log.debug(e.destination() + ": MPTCP unanswered for " + mptcpMillis + " ms, plain TCP answered: suspect");
                }
                return;
            }
            e.level = e.kind == BLACKHOLE ? Math.min(MAX_LEVEL, e.level + 1) : 1;
            e.kind = BLACKHOLE;
            ttl <<= e.level - 1;
            e.ttlMillis = ttl;
            e.expires = System.nanoTime() + ttl * 1_000_000L;
        }
        LEARNED.increment();
        String who = e.destination();
        if (Log.enabled(Log.Level.INFO) && NAMED.size() < MAX && !NAMED.contains(who) && Connections.allowLine()
                && NAMED.add(who)) {
            Log.info(who + " does not answer MPTCP (no SYN-ACK in " + mptcpMillis + " ms, twice) but plain TCP (in "
                    + tcpMillis + " ms): a middlebox drops MPTCP SYNs; connections to it use plain TCP for " + seconds(ttl)
                    + ", then MPTCP is tried again (first time; not repeated)");
        } else if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug(who + ": MPTCP unanswered again: plain TCP for " + seconds(ttl) + " (back-off " + e.level + ")");
        }
    }

    /**
     * A connect to the destination completed in {@code millis} (MPTCP answered, or the peer answered without MPTCP):
     * a remembered entry goes (the destination answers now), unless the answer was slow (more than half the race
     * delay {@code delay}): then it is remembered as slow. A lookup without a lock unless something changes.
     */
    static void mptcpAnswered(InetAddress address, int port, long millis, long delay) {
        boolean slow = 2 * millis > delay;
        Entry e = find(address, port);
        if (e == null && !slow || e != null && slow && e.kind == SLOW && e.mptcpMillis == millis) {
            return;
        }
        synchronized (Destinations.class) {
            e = find(address, port);
            if (!slow) {
                if (e != null) {
                    remove(e);
                    if (Log.enabled(Log.Level.DEBUG)) {
                        Log.debug(e.destination() + " answered in " + millis + " ms: no longer remembered");
                    }
                }
                return;
            }
            e = entry(address, port);
            e.kind = SLOW;
            e.level = 0;
            e.mptcpMillis = millis;
            e.ttlMillis = Policy.config().blackholeTtlSeconds * 1000L;
            e.expires = System.nanoTime() + e.ttlMillis * 1_000_000L;
        }
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug(e.destination() + " answered MPTCP in " + millis + " ms: races to it wait " + delayMillis(e, 0) + " ms");
        }
    }

    /** The entry of a destination, made (and the table copied) when there is none. Under the class lock. */
    private static Entry entry(InetAddress address, int port) {
        Entry e = find(address, port);
        if (e != null) {
            return e;
        }
        if (address instanceof Inet4Address) {
            e = new Entry(0, AddressPrefix.MAPPED | (address.hashCode() & 0xFFFF_FFFFL), port);
        } else {
            byte[] b = address.getAddress();
            e = new Entry(Rules.longAt(b, 0), Rules.longAt(b, 8), port);
        }
        List<Entry> all = entries();
        if (all.size() >= MAX) {
            // the one closest to expiry (expired ones first) makes room
            all.sort((x, y) -> Long.compare(x.expires - y.expires, 0));
            all.remove(0);
        }
        all.add(e);
        publish(all);
        return e;
    }

    private static void remove(Entry gone) {
        List<Entry> all = entries();
        all.remove(gone);
        publish(all);
    }

    private static void publish(List<Entry> all) {
        int capacity = 4;
        while (capacity < all.size() * 2) {
            capacity *= 2;
        }
        Table t = new Table(all.isEmpty() ? 0 : capacity, all.size());
        for (Entry e : all) {
            int mask = capacity - 1;
            int i = hash(e.hi, e.lo, e.port) & mask;
            while (t.entries[i] != null) {
                i = (i + 1) & mask;
            }
            t.his[i] = e.hi;
            t.los[i] = e.lo;
            t.ports[i] = e.port;
            t.entries[i] = e;
        }
        table = t;
    }

    /** Every remembered destination, soonest expiry last (a copy). */
    public static List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (Entry e : table.entries) {
            if (e != null) {
                out.add(e);
            }
        }
        out.sort((x, y) -> Long.compare(y.expires - x.expires, 0));
        return out;
    }

    /** Forgets everything (tests). */
    static synchronized void clear() {
        table = new Table(0, 0);
        NAMED.clear();
    }

    static String where(long hi, long lo, int port) {
        String host = AddressPrefix.format(hi, lo);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private static String seconds(long millis) {
        return millis >= 10_000 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }

}
