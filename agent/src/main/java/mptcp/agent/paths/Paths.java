package mptcp.agent.paths;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.atomic.AtomicReferenceArray;

import mptcp.agent.log.Log;
import mptcp.sys.Errno;

/**
 * Per-path accounting of the MPTCP connections of this JVM: which connections to follow (their fds, from
 * {@link #opened}, called once the kernel said a connection is MPTCP), their last look as the application closes them
 * ({@link #closing}), the periodic looks at the living ones ({@link #sampleHere}, on the agent's background thread),
 * and the figures ({@link #table}, {@link #attributes}).
 *
 * <p>Cost: one {@code getsockopt(MPTCP_FULL_INFO)} per connection as it closes (with what the agent adds, about
 * 1.3 µs on the test machine, ~1.0 µs of it the kernel's; {@code bench/paths-cost.sh}), and one per living connection
 * per sampling pass. A pass runs every {@link #PERIOD_MS}, or less often when passes get
 * long: the pause after a pass is at least 100 times the pass itself, so sampling never takes more than 1 % of one
 * core. No thread is started for it; with no connection to follow the background thread waits without waking.
 */
public final class Paths {
    /** The sampling period while connections are followed (longer when a pass takes more than 1 % of it). */
    public static final long PERIOD_MS = 1000;
    /** A status or JMX read looks again at the living connections unless a pass ended less than this ago. */
    static final long FRESH_MS = 200;

    static final Accounting ACCOUNTING = new Accounting(new Interfaces());
    /**
     * The connections followed, by fd. Lock-free for the application's threads (a lock here made connections queue
     * behind a preempted holder on a loaded machine): slots are set and cleared with compare-and-set, and whoever
     * replaces the array when an fd does not fit repeats its own change on the new one if it raced with the copy.
     */
    private static volatile AtomicReferenceArray<Accounting.Connection> byFd = new AtomicReferenceArray<>(64);
    private static final Object GROW = new Object();
    /**
     * How many are followed: an adder, so that the threads opening and closing connections do not bounce one cache
     * line between cores (read only by the sampler and by status).
     */
    private static final LongAdder LIVE = new LongAdder();
    /** The sampler waits here while no connection is followed; set while it does, so that the first one wakes it. */
    private static final Object IDLE = new Object();
    private static volatile boolean idle;
    private static final Object PASS = new Object();
    /** System.nanoTime() values: when the last pass ended (long ago at first), when the next one is due. */
    private static volatile long lastPassEnd = System.nanoTime() - 2 * FRESH_MS * 1_000_000L;
    private static volatile long lastPassNanos;
    private static volatile long nextPassAt = System.nanoTime();

    private Paths() {
    }

    /** The kernel said the connection on {@code fd} is MPTCP: follow it. Never throws. */
    public static void opened(int fd) {
        if (fd < 0) {
            return;
        }
        Accounting.Connection c = new Accounting.Connection(fd);
        Accounting.Connection old = slots(fd).getAndSet(fd, c);
        for (AtomicReferenceArray<Accounting.Connection> t = byFd; t.get(fd) != c; t = byFd) {
            t.set(fd, c); // the array was replaced while this was set in the old one
        }
        if (old == null) {
            LIVE.increment();
        } else {
            forget(old); // its fd was closed where the agent could not see it, and reused
        }
        if (idle) {
            synchronized (IDLE) {
                IDLE.notifyAll(); // the sampler waits for a first connection
            }
        }
    }

    /** The slots, grown to hold {@code fd}. */
    private static AtomicReferenceArray<Accounting.Connection> slots(int fd) {
        AtomicReferenceArray<Accounting.Connection> t = byFd;
        if (fd < t.length()) {
            return t;
        }
        synchronized (GROW) {
            t = byFd;
            if (fd >= t.length()) {
                AtomicReferenceArray<Accounting.Connection> bigger =
                        new AtomicReferenceArray<>(Math.max(fd + 1, t.length() * 2));
                for (int i = 0; i < t.length(); i++) {
                    bigger.set(i, t.get(i));
                }
                byFd = bigger;
                t = bigger;
            }
            return t;
        }
    }

    /** Removes {@code c} from its slot if it is still there (in the current array too, should it have been copied). */
    private static boolean remove(Accounting.Connection c) {
        boolean removed = false;
        AtomicReferenceArray<Accounting.Connection> t = byFd;
        for (;;) {
            if (c.fd < t.length() && t.compareAndSet(c.fd, c, null)) {
                removed = true;
            }
            AtomicReferenceArray<Accounting.Connection> now = byFd;
            if (now == t) {
                break;
            }
            t = now;
        }
        if (removed) {
            LIVE.decrement();
        }
        return removed;
    }

    /**
     * The application is about to close {@code fd} (or to make it a dead socket before closing it): if it is a
     * connection followed here, its last look. Costs an array read for any other fd. Never throws.
     */
    public static void closing(int fd) {
        AtomicReferenceArray<Accounting.Connection> t = byFd;
        if (fd < 0 || fd >= t.length()) {
            return;
        }
        Accounting.Connection c = t.get(fd);
        if (c != null && remove(c)) {
            look(c, true);
        }
    }

    /** One look at {@code c}; {@code last}: the application is closing it. */
    private static void look(Accounting.Connection c, boolean last) {
        synchronized (c) {
            if (c.gone) {
                return;
            }
            try {
                int[] error = new int[1];
                // the last look is by the application's own fd, still open: no token needed to know whose it is
                View v = View.read(c.fd, error, !last);
                if (v == null || (!last && c.known && v.token != c.token)) {
                    if (v == null && Log.enabled(Log.Level.DEBUG)) {
                        Log.debug("fd " + c.fd + ": no MPTCP_FULL_INFO (" + Errno.describe(error[0])
                                + "): its subflows are no longer counted");
                    }
                    drop(c);
                    return;
                }
                ACCOUNTING.look(c, v, last);
            } catch (Throwable e) {
                Log.once(Log.Level.WARN, "paths", "cannot read the subflows of MPTCP connections (" + e
                        + "); per-path figures stop");
                drop(c);
            }
        }
    }

    /** {@code c} can no longer be read: it leaves the counts and the table. */
    private static void drop(Accounting.Connection c) {
        ACCOUNTING.lost(c);
        remove(c);
    }

    private static void forget(Accounting.Connection c) {
        synchronized (c) {
            ACCOUNTING.lost(c);
        }
    }

    /** One look at every connection followed. */
    static void sampleAll() {
        synchronized (PASS) {
            long start = System.nanoTime();
            AtomicReferenceArray<Accounting.Connection> t = byFd;
            for (int i = 0; i < t.length(); i++) {
                Accounting.Connection c = t.get(i);
                if (c != null) {
                    look(c, false);
                }
            }
            ACCOUNTING.interfaces().refreshIfOld();
            long end = System.nanoTime();
            lastPassNanos = end - start;
            lastPassEnd = end;
            nextPassAt = end + Math.max(PERIOD_MS * 1_000_000L, 100 * lastPassNanos);
        }
    }

    /**
     * A pass now unless one ended within {@link #FRESH_MS}, or within 100 times the last pass (status, JMX: figures of
     * now, not of the last pass; frequent scrapes of a JVM with very many connections stay within 1 % of a core).
     */
    static void fresh() {
        long since = System.nanoTime() - lastPassEnd;
        if (since >= FRESH_MS * 1_000_000L && since >= 100 * lastPassNanos && followed() > 0) {
            sampleAll();
        }
    }

    static int followed() {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, LIVE.sum()));
    }

    /**
     * Waits {@code millis}, running the passes that fall due meanwhile (the JMX watcher's pause: it runs on the same
     * thread before the MBean is registered). While no connection is followed it does not wake before the end unless
     * one appears; while some are, it wakes when a pass is due. The application's threads wake it only when it waits
     * idle (a first connection), not for every connection; once woken it stays awake, sleeping until the next pass
     * (a period after the wake at the earliest), and goes idle again only after a pass found nothing to follow: under
     * churn, where the number followed goes 0, 1, 0 all the time, it wakes at most once per pass, not per connection.
     */
    public static void pause(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        boolean awake = false;
        for (;;) {
            long now = System.nanoTime();
            if (end - now <= 0) {
                return;
            }
            if (awake || followed() > 0) {
                awake = true;
                long due = nextPassAt - now;
                if (due <= 0) {
                    sampleAll();
                    awake = followed() > 0;
                    continue;
                }
                Thread.sleep(Math.min(end - now, due) / 1_000_000L + 1);
            } else {
                synchronized (IDLE) {
                    idle = true;
                    if (followed() == 0) {
                        IDLE.wait((end - now) / 1_000_000L + 1);
                    }
                    idle = false;
                }
                long woken = System.nanoTime();
                if (end - woken > 0) {
                    // woken before the end: by a first connection (which may be closed already). The next pass a
                    // period from now, not at once; until then no connection wakes this thread again
                    awake = true;
                    long next = woken + PERIOD_MS * 1_000_000L;
                    if (next - nextPassAt > 0) {
                        nextPassAt = next;
                    }
                }
            }
        }
    }

    /** The sampling loop, for ever, on the calling thread (the agent's background thread). */
    public static void sampleHere() {
        Thread.currentThread().setName("mptcp-agent-paths");
        try {
            for (;;) {
                pause(PERIOD_MS);
            }
        } catch (InterruptedException e) {
            // the JVM is going away
        }
    }

    /**
     * The per-interface table of status: one row per interface that carried a followed subflow, sorted by name:
     * interface, sent_bytes, received_bytes, retransmitted_bytes, subflows (open now).
     */
    public static List<Map<String, String>> table() {
        fresh();
        List<Map<String, String>> rows = new java.util.ArrayList<>();
        ACCOUNTING.byInterface().forEach((name, t) -> {
            Map<String, String> r = new LinkedHashMap<>();
            r.put("interface", name);
            r.put("sent_bytes", String.valueOf(t.sent.sum()));
            r.put("received_bytes", String.valueOf(t.received.sum()));
            r.put("retransmitted_bytes", String.valueOf(t.retransmitted.sum()));
            r.put("subflows", String.valueOf(t.subflows.get()));
            rows.add(r);
        });
        return rows;
    }

    /** The counters that have no interface: subflows_opened, subflow_failures. */
    public static Map<String, Long> counters() {
        fresh();
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("subflows_opened", ACCOUNTING.opened.sum());
        out.put("subflow_failures", ACCOUNTING.failures.sum());
        return out;
    }

    /**
     * The per-interface figures as MBean attributes, named for label mapping ({@code deploy/jmx-exporter.yaml}):
     * {@code path_sent_bytes_<interface>}, {@code path_received_bytes_<interface>},
     * {@code path_retransmitted_bytes_<interface>}, {@code path_subflows_<interface>}.
     */
    public static Map<String, Long> attributes() {
        fresh();
        Map<String, Long> out = new LinkedHashMap<>();
        ACCOUNTING.byInterface().forEach((name, t) -> {
            out.put("path_sent_bytes_" + name, t.sent.sum());
            out.put("path_received_bytes_" + name, t.received.sum());
            out.put("path_retransmitted_bytes_" + name, t.retransmitted.sum());
            out.put("path_subflows_" + name, (long) t.subflows.get());
        });
        return out;
    }
}
