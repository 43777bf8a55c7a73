package mptcp.agent.paths;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import mptcp.agent.log.Log;

/**
 * The per-path figures of this JVM, built from successive looks at each MPTCP connection ({@link View}): what each
 * subflow carried since the last look is added to the totals of its local interface, so that the totals keep what
 * subflows and connections carried after they are gone. Per connection the last figures of each subflow are kept
 * ({@link Connection}); a look and the accounting of its differences happen under that connection's lock (callers'
 * duty), the totals are atomic.
 *
 * <p>Subflow failures: a subflow counts as failed when it <em>stalled</em> (data outstanding, at least one
 * retransmission timeout in a row, and no ACK for {@link #STALL_MS}) while another subflow of the same connection was
 * <em>carrying</em> it (an ACK or data within {@link #STALL_MS}, not stalled itself); or when it disappeared from its
 * living connection after its last look showed a retransmission timeout, while another carried on. Counted once per
 * event: a failed subflow counts again only after it recovered (ACKs again, no back-off).
 */
final class Accounting {
    /** No ACK for this long, with data outstanding and a retransmission timeout, is a stall (kernel times, ms). */
    static final long STALL_MS = 1000;
    /** More interface names than this are counted under "other" (a bound on memory and on label cardinality). */
    private static final int MAX_INTERFACES = 64;

    /**
     * The figures of one interface: sent, TCP payload sent the first time (tcpi_bytes_sent - tcpi_bytes_retrans;
     * MPTCP's reinjections of data first sent on another subflow included); retransmitted, sent again by TCP.
     */
    static final class Totals {
        final LongAdder sent = new LongAdder();
        final LongAdder received = new LongAdder();
        final LongAdder retransmitted = new LongAdder();
        /** Subflows open now (in an MPTCP connection the agent follows, listed by the kernel, established). */
        final AtomicInteger subflows = new AtomicInteger();
    }

    /** What the accounting remembers of one connection between looks. */
    static final class Connection {
        final int fd;
        int token;
        boolean known;
        /** Highest subflow id seen: the kernel numbers a connection's subflows 1, 2, ... as it creates them. */
        int maxId;
        /** Empty until a look found subflows while the connection lived (no array for the last look alone). */
        final List<Track> subflows = new ArrayList<>();
        /** Set once its last look was accounted (closed, or lost): nothing more is added. */
        boolean gone;

        Connection(int fd) {
            this.fd = fd;
        }
    }

    /** One subflow's last figures. */
    static final class Track {
        final int id;
        /** Its local address's interface; {@link Interfaces#UNKNOWN} is looked up again at later looks. */
        String iface;
        /** The local IP address (for log lines only), or null. */
        final byte[] local;
        long sent;
        long received;
        long retransmitted;
        boolean open;
        boolean failed;
        /** Its last look showed a retransmission timeout (tcpi_backoff) or a stall. */
        boolean troubled;

        Track(int id, String iface, byte[] local) {
            this.id = id;
            this.iface = iface;
            this.local = local;
        }
    }

    private final Interfaces interfaces;
    private final Map<String, Totals> byInterface = new ConcurrentHashMap<>();
    /** Totals that every connection's end adds to: adders, so that threads closing connections do not contend. */
    final LongAdder opened = new LongAdder();
    final LongAdder failures = new LongAdder();

    Accounting(Interfaces interfaces) {
        this.interfaces = interfaces;
    }

    Interfaces interfaces() {
        return interfaces;
    }

    /**
     * Accounts one look {@code v} at connection {@code c}: what each subflow carried since the previous look, subflows
     * that appeared and disappeared, failures. {@code closing}: the application is closing the connection and this is
     * its last look (its subflows leave the open count; their disappearance is no failure). The caller holds
     * {@code c}'s lock and has checked that {@code v} is of the same connection (its token).
     */
    void look(Connection c, View v, boolean closing) {
        if (c.gone) {
            return;
        }
        if (closing && c.subflows.isEmpty() && v.subflows.length == 1 && !Log.enabled(Log.Level.DEBUG)) {
            lastAndOnlyLook(c, v.subflows[0]);
            return;
        }
        if (!c.known && !closing) {
            c.token = v.token;
            c.known = true;
        }
        boolean anyCarrying = false;
        Track[] tracks = new Track[v.subflows.length];
        for (int i = 0; i < v.subflows.length; i++) {
            View.Subflow s = v.subflows[i];
            Track t = find(c, s.id);
            if (t == null) {
                t = new Track(s.id, interfaces.of(s.local, s.scope), s.local);
                c.subflows.add(t);
            }
            tracks[i] = t;
            if (t.iface.equals(Interfaces.UNKNOWN) && s.local != null) {
                String now = interfaces.of(s.local, s.scope); // an address added since the table was last read
                if (!now.equals(Interfaces.UNKNOWN)) {
                    if (t.open) {
                        totals(t.iface).subflows.decrementAndGet();
                        totals(now).subflows.incrementAndGet();
                    }
                    t.iface = now;
                }
            }
            Totals totals = totals(t.iface);
            long sent = s.sent - s.retransmitted; // payload sent the first time on this subflow
            add(totals.sent, delta(sent, t.sent));
            add(totals.received, delta(s.received, t.received));
            add(totals.retransmitted, delta(s.retransmitted, t.retransmitted));
            t.sent = sent;
            t.received = s.received;
            t.retransmitted = s.retransmitted;
            boolean open = !closing && s.state == View.ESTABLISHED;
            if (open != t.open) {
                totals.subflows.addAndGet(open ? 1 : -1);
                t.open = open;
            }
            if (s.id > c.maxId) {
                opened.add(s.id - c.maxId);
                c.maxId = s.id;
            }
            anyCarrying |= carrying(s);
        }
        for (int i = 0; i < v.subflows.length; i++) {
            View.Subflow s = v.subflows[i];
            Track t = tracks[i];
            boolean stalled = stalled(s);
            if (stalled && !t.failed && carriedElsewhere(v, i)) {
                t.failed = true;
                failed(t, "stalled: " + s.backoff + " retransmission timeout(s) in a row, no ACK for " + s.lastAckMs
                        + " ms", v, i);
            } else if (t.failed && !stalled && s.backoff == 0 && s.lastAckMs < STALL_MS) {
                t.failed = false; // recovered: a later stall is another event
            }
            t.troubled = stalled || s.backoff > 0;
        }
        for (int j = c.subflows.size() - 1; j >= 0; j--) {
            Track t = c.subflows.get(j);
            if (contains(v, t.id)) {
                continue;
            }
            // gone from the kernel's list while the connection lives: closed by the kernel or the path manager
            if (!closing && !t.failed && t.troubled && anyCarrying) {
                failed(t, "closed after a retransmission timeout", v, -1);
            }
            if (t.open) {
                totals(t.iface).subflows.decrementAndGet();
            }
            c.subflows.remove(j);
        }
        if (closing) {
            c.gone = true;
            if (Log.enabled(Log.Level.DEBUG)) {
                StringBuilder b = new StringBuilder("fd " + c.fd + ": closing, its subflows' last figures:");
                for (int i = 0; i < v.subflows.length; i++) {
                    View.Subflow s = v.subflows[i];
                    b.append(i == 0 ? " " : "; ").append("subflow ").append(s.id).append(' ').append(tracks[i].iface)
                            .append(' ').append(address(tracks[i].local)).append(" sent=").append(s.sent)
                            .append(" received=").append(s.received);
                }
                Log.debug(b.toString());
            }
        }
    }

    /**
     * The usual end of a short connection: its only look, as it closes, shows one subflow. What the general case
     * would do, without its bookkeeping: no subflow to track, open, or compare with another (no failure is possible
     * with one subflow and none seen before).
     */
    private void lastAndOnlyLook(Connection c, View.Subflow s) {
        Totals totals = totals(interfaces.of(s.local, s.scope));
        add(totals.sent, s.sent - s.retransmitted);
        add(totals.received, s.received);
        add(totals.retransmitted, s.retransmitted);
        if (s.id > c.maxId) {
            opened.add(s.id - c.maxId);
            c.maxId = s.id;
        }
        c.gone = true;
    }

    /** Adds {@code d} unless it is 0 (a connection that carried nothing touches no shared counter). */
    private static void add(LongAdder a, long d) {
        if (d != 0) {
            a.add(d);
        }
    }

    /** Connection {@code c} can no longer be looked at (closed where the agent could not see it): it leaves the counts. */
    void lost(Connection c) {
        if (c.gone) {
            return;
        }
        for (Track t : c.subflows) {
            if (t.open) {
                totals(t.iface).subflows.decrementAndGet();
            }
        }
        c.subflows.clear();
        c.gone = true;
    }

    /** Data outstanding, at least one retransmission timeout in a row, no ACK for {@link #STALL_MS}. */
    static boolean stalled(View.Subflow s) {
        return s.unacked > 0 && s.backoff > 0 && s.lastAckMs >= STALL_MS;
    }

    /** Established, not stalled, and an ACK or data within {@link #STALL_MS}. */
    static boolean carrying(View.Subflow s) {
        return s.state == View.ESTABLISHED && !stalled(s) && (s.lastAckMs < STALL_MS || s.lastDataMs < STALL_MS);
    }

    private static boolean carriedElsewhere(View v, int except) {
        for (int i = 0; i < v.subflows.length; i++) {
            if (i != except && carrying(v.subflows[i])) {
                return true;
            }
        }
        return false;
    }

    private void failed(Track t, String why, View v, int index) {
        failures.increment();
        if (Log.enabled(Log.Level.INFO)) {
            StringBuilder others = new StringBuilder();
            for (int i = 0; i < v.subflows.length; i++) {
                if (i != index && carrying(v.subflows[i])) {
                    others.append(others.length() == 0 ? "" : ", ").append(interfaces.of(v.subflows[i].local,
                            v.subflows[i].scope));
                }
            }
            Log.info("subflow failure on " + t.iface + " (" + address(t.local) + ", subflow " + t.id + "): " + why
                    + "; the connection went on over " + others);
        }
    }

    private static Track find(Connection c, int id) {
        for (Track t : c.subflows) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    private static boolean contains(View v, int id) {
        for (View.Subflow s : v.subflows) {
            if (s.id == id) {
                return true;
            }
        }
        return false;
    }

    /** What a counter gained since its last reading; all of it when it went down (cannot happen for one subflow). */
    private static long delta(long now, long before) {
        return now >= before ? now - before : now;
    }

    private Totals totals(String iface) {
        Totals t = byInterface.get(iface);
        if (t == null) {
            String name = byInterface.size() < MAX_INTERFACES ? iface : "other";
            t = byInterface.computeIfAbsent(name, k -> new Totals());
        }
        return t;
    }

    /** The totals by interface name, sorted. */
    Map<String, Totals> byInterface() {
        return new TreeMap<>(byInterface);
    }

    private static String address(byte[] ip) {
        if (ip == null) {
            return "?";
        }
        try {
            return java.net.InetAddress.getByAddress(ip).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return "?";
        }
    }
}
