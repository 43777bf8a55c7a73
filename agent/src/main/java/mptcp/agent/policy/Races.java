package mptcp.agent.policy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import mptcp.agent.config.Config;
import mptcp.agent.log.Log;
import mptcp.agent.os.EpollRegistrations;
import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.SockAddr;
import mptcp.sys.Swap;

/**
 * The connect race, after Happy Eyeballs (RFC 8305): an MPTCP connect that has no answer within the race delay
 * ({@code race_delay}, longer for a destination known to answer slowly: {@link Destinations}) gets a plain TCP connect
 * to the same destination beside it; the first to connect wins and ends up under the application's fd with its
 * options, blocking mode and epoll registrations; the other is closed. The MPTCP attempt is also stopped, whatever the
 * TCP one does, before the kernel's own fallback (after {@code net.mptcp.syn_retrans_before_tcp_fallback}
 * unanswered SYN retransmissions the kernel sends a plain SYN, and if that one is answered it turns active MPTCP off
 * for the whole network namespace for {@code net.mptcp.blackhole_timeout}). A destination whose MPTCP SYNs went
 * unanswered while TCP answered is remembered ({@link Destinations}): later connects to it are plain TCP at once.
 *
 * <p>Who does what. The library module (JDK, Netty) calls {@link #beforeConnect} just before its connect, and
 * {@link #beforeFinish} / {@link #afterFinish} around each of its own looks at whether the connect completed
 * (the JDK's {@code pollConnect}, {@code checkConnect}, a blocking {@code connect0} returning). One agent thread, the
 * race thread, started at the first registered connect, sleeps until the earliest deadline of the connects still
 * under way (parked without a deadline when there is none) and only then looks at a connect: through its own second
 * fd of the MPTCP socket ({@code dup}; checked to be that socket, MPTCP and still in SYN-SENT), it makes the plain
 * TCP socket (the "twin") and watches both with poll(2). It never changes the application's fd: when the race is
 * decided for TCP it shuts the MPTCP socket down through its own fd, which wakes whatever waits on it (a blocking
 * connect, poll, a selector, an event loop), and the application's thread, back in the library's call, puts the twin
 * under its fd ({@link Swap#install}, epoll registrations added again). So a close or an interrupt during a race
 * behaves as without the agent, and the fd number is only ever replaced by the thread that owns the call.
 *
 * <p>Cost on a path that answers: {@link #beforeConnect} stores the connect in per-fd arrays (no allocation, no
 * syscall; System.nanoTime through the vDSO) and compares its deadline with the race thread's next wake-up (the one
 * timer check: a wake-up, a futex call, only when the thread is idle); {@link #afterFinish} clears it. A connect that
 * completes before its deadline is never looked at by the race thread.
 */
public final class Races {
    /** {@link #beforeFinish}/{@link #afterFinish}: nothing to do, the library goes on as without the race. */
    public static final int NONE = 0;
    /** The plain TCP connection is now under the fd, connected: the library's connect succeeded. */
    public static final int CONNECTED = 1;
    /** The plain TCP attempt is now under the fd, still connecting: the library waits for it as for its own. */
    public static final int CONNECTING = 2;
    // negative: -errno, the plain TCP attempt failed (and the MPTCP one was stopped): the library's connect fails so

    public static final LongAdder STARTED = new LongAdder();
    public static final LongAdder WON_TCP = new LongAdder();
    public static final LongAdder WON_MPTCP = new LongAdder();
    public static final LongAdder ABANDONED = new LongAdder();
    public static final LongAdder TCP_FAILED = new LongAdder();

    /** Slack of the race thread's wake-ups while races are under way (it also wakes on every connect event). */
    private static final long TICK_NANOS = 50_000_000L;
    /** How far ahead "no deadline" is put (an hour: never reached while idle, no overflow). */
    private static final long IDLE_NANOS = 3_600_000_000_000L;
    private static final int MAX_TRACKED = 1 << 22;

    /** Connects under way, by fd: deadline (System.nanoTime(), 0: none), start, destination, a registration count. */
    private static final class Slots {
        final long[] deadline;
        final long[] start;
        final long[] delay;
        final InetAddress[] address;
        final int[] port;
        final int[] seq;
        /** How the library's event loop watches the socket (Decisions.OWN, UNWATCHED, REPORTED, WATCHED). */
        final byte[] watch;

        Slots(int n) {
            deadline = new long[n];
            start = new long[n];
            delay = new long[n];
            address = new InetAddress[n];
            port = new int[n];
            seq = new int[n];
            watch = new byte[n];
        }

        Slots grow(int n) {
            Slots s = new Slots(n);
            System.arraycopy(deadline, 0, s.deadline, 0, deadline.length);
            System.arraycopy(start, 0, s.start, 0, start.length);
            System.arraycopy(delay, 0, s.delay, 0, delay.length);
            System.arraycopy(address, 0, s.address, 0, address.length);
            System.arraycopy(port, 0, s.port, 0, port.length);
            System.arraycopy(seq, 0, s.seq, 0, seq.length);
            System.arraycopy(watch, 0, s.watch, 0, watch.length);
            return s;
        }
    }

    /** Empty until the first registration (a JVM that never connects out allocates nothing here). */
    private static volatile Slots slots = new Slots(0);
    /**
     * Counted up after each registration (not atomically: two registrations at once may count one, but either changes
     * it): the race thread scans again when it changed while it scanned; the volatile write publishes the slot.
     */
    private static volatile long published;
    /** The races under way or waiting for their application thread, by fd; {@link #active} counts them. */
    private static volatile Race[] races = new Race[0];
    private static volatile int active;

    private static volatile Thread thread;
    /** When the race thread looks at the connects next (System.nanoTime()). */
    private static volatile long wakeAt;
    /** net.mptcp.syn_retrans_before_tcp_fallback, read at each race start (per namespace, may change). */
    private static volatile int synRetransBeforeFallback = 2;

    private Races() {
    }

    /** Whether a race is under way or waiting for its application thread (one volatile read). */
    public static boolean any() {
        return active != 0;
    }

    /**
     * Just before the library connects socket {@code fd} (not connected yet) to {@code address}:{@code port}: a
     * destination remembered as dropping MPTCP makes the socket plain TCP now ({@code watch} as for
     * {@link Decisions#beforeConnect(int, InetAddress, int, int)}); otherwise the connect is registered for the race.
     * Never throws.
     * @return true when registered (the library then calls {@link #afterFinish} when its connect ends)
     */
    public static boolean beforeConnect(int fd, InetAddress address, int port, int watch) {
        return beforeConnect(fd, address, port, watch, true);
    }

    /**
     * As {@link #beforeConnect(int, InetAddress, int, int)}; with {@code raceable} false only the memory applies (a
     * library whose connect the race cannot take over, such as a connect submitted to an io_uring ring).
     */
    public static boolean beforeConnect(int fd, InetAddress address, int port, int watch, boolean raceable) {
        if (fd < 0 || fd >= MAX_TRACKED || address == null) {
            return false;
        }
        try {
            Config c = Policy.config();
            if (!c.race || Policy.nativeBroken) {
                return false;
            }
            discard(fd); // an earlier socket under this number that never finished its race
            if (Decisions.keptTcp(fd) || loopback(address)) {
                return false; // plain TCP by a rule; loopback: no middlebox there, and the rules keep it TCP by default
            }
            long delay = c.raceDelayMillis;
            if (Destinations.any()) {
                Destinations.Entry e = Destinations.find(address, port);
                if (Destinations.tcpAtOnce(e)) {
                    if (Decisions.toTcp(fd, watch) == 0) {
                        e.tcpAtOnce.increment();
                        Destinations.CONNECTIONS_TCP_BLACKHOLE.increment();
                        if (Log.enabled(Log.Level.DEBUG)) {
                            Log.debug("fd " + fd + ": connect to " + e.destination() + ": plain TCP (remembered: it drops"
                                    + " MPTCP SYNs)");
                        }
                    }
                    return false;
                }
                delay = Destinations.delayMillis(e, c.raceDelayMillis);
            }
            if (!raceable) {
                return false;
            }
            register(fd, address, port, delay, watch);
            return true;
        } catch (Throwable t) {
            Log.once(Log.Level.WARN, "race-register", "cannot race connects (" + t + "); they go on as the kernel makes them");
            return false;
        }
    }

    /** 127.0.0.0/8 or ::1, without copying the address (Inet4Address.isLoopbackAddress copies it). */
    private static boolean loopback(InetAddress address) {
        return address instanceof java.net.Inet4Address ? address.hashCode() >>> 24 == 127 : address.isLoopbackAddress();
    }

    private static void register(int fd, InetAddress address, int port, long delayMillis, int watch) {
        Slots s = slots;
        if (fd >= s.deadline.length) {
            s = grow(fd);
        }
        long now = System.nanoTime();
        long deadline = now + delayMillis * 1_000_000L;
        if (deadline == 0) {
            deadline = 1;
        }
        s.start[fd] = now == 0 ? 1 : now;
        s.delay[fd] = delayMillis;
        s.address[fd] = address;
        s.port[fd] = port;
        s.watch[fd] = (byte) watch;
        s.seq[fd]++;
        s.deadline[fd] = deadline;
        published = published + 1; // publishes the stores above to the race thread
        if (slots != s) {
            register(fd, address, port, delayMillis, watch); // grown meanwhile: write into the new arrays too
            return;
        }
        // the one timer check: wake the race thread only if it would look too late
        if (deadline - wakeAt < 0 || thread == null) {
            wake();
        }
    }

    private static synchronized Slots grow(int fd) {
        Slots s = slots;
        if (fd >= s.deadline.length) {
            s = s.grow(Math.min(MAX_TRACKED, Math.max(Math.max(fd + 1, 1024), s.deadline.length * 2)));
            slots = s;
        }
        return s;
    }

    private static void wake() {
        Thread t = thread;
        if (t == null) {
            synchronized (Races.class) {
                t = thread;
                if (t == null) {
                    t = new RaceThread();
                    thread = t;
                    t.start();
                    return;
                }
            }
        }
        LockSupport.unpark(t);
    }

    /**
     * Before the library asks whether {@code fd}'s connect completed: when a race decided it meanwhile, its outcome
     * is put under {@code fd} now. One volatile read when no race is under way.
     * @return {@link #NONE} (ask the socket), {@link #CONNECTED}, {@link #CONNECTING} (ask the socket now under fd), or
     *     -errno (the connect failed so)
     */
    public static int beforeFinish(int fd) {
        Race r = race(fd);
        if (r == null) {
            return NONE;
        }
        synchronized (r) {
            return settle(r, NONE);
        }
    }

    /**
     * After the library asked whether {@code fd}'s connect completed ({@code connected}) or its connect failed
     * ({@code connected} false, an exception): ends the connect's registration (a connect that completed teaches the
     * destination's answer time); when a race was decided meanwhile, the library's answer was about the stopped MPTCP
     * socket and the race's outcome is put under {@code fd} instead.
     * @return as {@link #beforeFinish}; {@link #NONE}: the library's own answer stands
     */
    public static int afterFinish(int fd, boolean connected, boolean failed) {
        if (fd < 0) {
            return NONE;
        }
        if (connected || failed) {
            unregister(fd, connected);
        }
        Race r = race(fd);
        if (r == null) {
            return NONE;
        }
        synchronized (r) {
            if (r.state == Race.RACING && (connected || failed)) {
                // the MPTCP attempt answered (or failed on its own) before the race thread saw it
                mptcpDone(r, connected);
                return NONE;
            }
            if (r.state == Race.INSTALLED && (connected || failed)) {
                remove(r);
                if (connected) { // MPTCP went unanswered until abandoned, plain TCP answered later
                    long now = System.nanoTime();
                    Destinations.blackhole(r.address, r.port, (now - r.started) / 1_000_000L,
                            (now - r.twinStarted) / 1_000_000L);
                }
                return NONE;
            }
            return settle(r, NONE);
        }
    }

    /**
     * Ends the registration of {@code fd}'s connect; a completed one that took more than half its delay is learned
     * (not one the race thread raced: the race learns from its own outcome).
     */
    private static void unregister(int fd, boolean connected) {
        Slots s = slots;
        if (fd >= s.start.length || s.start[fd] == 0) {
            return;
        }
        s.deadline[fd] = 0;
        long start = s.start[fd];
        s.start[fd] = 0;
        if (connected) {
            long millis = (System.nanoTime() - start) / 1_000_000L;
            long delay = Policy.config().raceDelayMillis; // slow compared with the configured delay, not the adapted one
            if (2 * millis > delay || Destinations.any()) {
                InetAddress a = s.address[fd];
                if (a != null) {
                    Destinations.mptcpAnswered(a, s.port[fd], millis, delay);
                }
            }
        }
    }

    /**
     * Puts a decided race's outcome under its fd, on the application's thread (under the race's lock).
     * @return CONNECTED, CONNECTING, -errno, or {@code otherwise} when there is nothing to put
     */
    private static int settle(Race r, int otherwise) {
        switch (r.state) {
            case Race.MPTCP_DONE:
                remove(r);
                return otherwise;
            case Race.TCP_FAILED:
                remove(r);
                return -r.error;
            case Race.TCP_WON:
            case Race.ABANDONED:
                return install(r);
            default:
                return otherwise; // RACING, INSTALLED: the socket under fd answers
        }
    }

    /** The twin under the application's fd, in place of the stopped MPTCP socket. */
    private static int install(Race r) {
        int fd = r.fd;
        if (!r.stillAt()) {
            remove(r); // the application closed its socket (or is closing it): nothing to put there
            r.release();
            return NONE;
        }
        Swap.carryOptions(fd, r.twin, r.watch != Decisions.OWN, false); // options set during the race
        EpollRegistrations epoll = registrations(fd, r.watch);
        int rc = Swap.install(r.twin, fd);
        if (rc < 0) {
            remove(r);
            r.release();
            Log.once(Log.Level.WARN, "race-install", "could not put a plain TCP connection under fd " + fd + " ("
                    + Errno.describe(-rc) + "): that connect fails");
            return -Errno.ECONNABORTED;
        }
        r.twin = -1;
        int lost = epoll.addAgain(fd);
        if (lost > 0) {
            Log.once(Log.Level.WARN, "race-epoll", lost + " epoll registration(s) of fd " + fd + " could not be added"
                    + " again after its connect went plain TCP: its event loop may miss its events");
        }
        if (r.state == Race.TCP_WON) {
            remove(r);
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + fd + ": connect to " + r.destination() + ": plain TCP won the race");
            }
            return CONNECTED;
        }
        r.state = Race.INSTALLED;
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("fd " + fd + ": connect to " + r.destination() + ": MPTCP abandoned, plain TCP still connecting");
        }
        return CONNECTING;
    }

    /**
     * Waits until the connecting socket {@code fd} (a race's plain TCP attempt, put there by {@link #beforeFinish} or
     * {@link #afterFinish} as {@link #CONNECTING}) connects or fails, for a library whose call must not return before
     * (the asynchronous channels' checkConnect, the legacy blocking connect); {@code timeoutMillis} -1: no limit.
     * @return 0 when connected, -errno of its failure, -ETIMEDOUT after the timeout
     */
    public static int awaitConnect(int fd, int timeoutMillis) {
        int[] fds = {fd};
        short[] events = {LibC.POLLOUT};
        short[] revents = new short[1];
        long end = System.nanoTime() + timeoutMillis * 1_000_000L;
        for (;;) {
            int slice = 1000;
            if (timeoutMillis >= 0) {
                long left = (end - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return -Errno.ETIMEDOUT;
                }
                slice = (int) Math.min(slice, left);
            }
            int n = Sock.poll(fds, events, revents, 1, slice);
            if (n < 0 && n != -Errno.EINTR) {
                return n;
            }
            if (n > 0) {
                int error = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_ERROR);
                return error < 0 ? error : -error;
            }
        }
    }

    /**
     * The epoll registrations of the MPTCP socket under {@code fd}, which the swap drops: the one a library reported
     * (Netty's event loops), none (io_uring), or every one of the process (the JDK's selectors, pollers and ports:
     * /proc/self/fdinfo of each epoll fd; read only when plain TCP won a race).
     */
    private static EpollRegistrations registrations(int fd, int watch) {
        if (watch == Decisions.UNWATCHED) {
            return EpollRegistrations.NONE;
        }
        if (watch == Decisions.REPORTED) {
            return EpollRegistrations.reported(fd);
        }
        long inode = EpollRegistrations.inode(fd);
        return inode < 0 ? EpollRegistrations.NONE : EpollRegistrations.of(fd, inode);
    }

    /** MPTCP connected (or failed on its own) first: the twin goes. Under r's lock. */
    private static void mptcpDone(Race r, boolean connected) {
        r.state = Race.MPTCP_DONE;
        r.release();
        if (connected) {
            WON_MPTCP.increment();
            long millis = (System.nanoTime() - r.started) / 1_000_000L;
            Destinations.mptcpAnswered(r.address, r.port, millis, Policy.config().raceDelayMillis);
        }
    }

    /** The race under {@code fd}, or null; one volatile read when no race is under way. */
    private static Race race(int fd) {
        if (active == 0) {
            return null;
        }
        Race[] rs = races;
        return fd >= 0 && fd < rs.length ? rs[fd] : null;
    }

    private static synchronized void put(Race r) {
        Race[] rs = races;
        if (r.fd >= rs.length) {
            rs = java.util.Arrays.copyOf(rs, Math.min(MAX_TRACKED, Math.max(Math.max(r.fd + 1, 64), rs.length * 2)));
        }
        if (rs[r.fd] == null) {
            active++;
        }
        rs[r.fd] = r;
        races = rs;
    }

    private static synchronized void remove(Race r) {
        Race[] rs = races;
        if (r.fd < rs.length && rs[r.fd] == r) {
            rs[r.fd] = null;
            active--;
        }
    }

    /** Drops a race left under {@code fd} by an earlier socket (a new connect starts there). */
    private static void discard(int fd) {
        Race r = race(fd);
        if (r != null) {
            synchronized (r) {
                remove(r);
                r.release();
            }
        }
    }

    /** Counters for status and the MBean. */
    public static Map<String, Long> counters() {
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("races_started", STARTED.sum());
        out.put("races_won_tcp", WON_TCP.sum());
        out.put("races_won_mptcp", WON_MPTCP.sum());
        out.put("races_mptcp_abandoned", ABANDONED.sum());
        out.put("races_tcp_failed", TCP_FAILED.sum());
        out.put("connections_tcp_blackhole", Destinations.CONNECTIONS_TCP_BLACKHOLE.sum());
        out.put("destinations_remembered", (long) Destinations.entries().size());
        return out;
    }

    // ------------------------------------------------------------------------------------------ the race thread

    /** The race thread (a class, not a lambda: none spun). */
    private static final class RaceThread extends Thread {
        RaceThread() {
            super("mptcp-agent-race");
            setDaemon(true);
        }

        @Override
        public void run() {
            for (;;) {
                try {
                    cycle();
                } catch (Throwable t) {
                    Log.once(Log.Level.WARN, "race-thread", "the connect race failed (" + t + "); connects go on as"
                            + " the kernel makes them");
                    LockSupport.parkNanos(TICK_NANOS);
                }
            }
        }
    }

    private static void cycle() {
        long seen = published;
        long now = System.nanoTime();
        long next = scan(now);
        List<Race> live = live();
        if (!live.isEmpty()) {
            // while races run the thread polls them, not parked: wake-ups cannot shorten that wait, so it is short
            long tick = Math.min(TICK_NANOS, Policy.config().raceDelayMillis * 500_000L);
            long until = next - (now + tick) < 0 ? next : now + tick;
            wakeAt = until;
            watch(live, (int) Math.max(0, (until - now) / 1_000_000L));
            return;
        }
        long until = next == Long.MAX_VALUE ? now + IDLE_NANOS : next;
        wakeAt = until;
        if (published != seen) {
            return; // a connect registered during the scan: look again
        }
        LockSupport.parkNanos(until - now);
    }

    /** Starts a race for each registered connect past its deadline; returns the earliest deadline still ahead. */
    private static long scan(long now) {
        Slots s = slots;
        long next = Long.MAX_VALUE;
        long[] deadlines = s.deadline;
        for (int fd = 0; fd < deadlines.length; fd++) {
            long d = deadlines[fd];
            if (d == 0) {
                continue;
            }
            if (d - now <= 0) {
                deadlines[fd] = 0;
                start(s, fd, now);
            } else if (next == Long.MAX_VALUE || d - next < 0) {
                next = d;
            }
        }
        return next;
    }

    /** The race of connect {@code fd}, unanswered past its deadline: checked, then the twin dialled. */
    private static void start(Slots s, int fd, long now) {
        int seq = s.seq[fd];
        InetAddress address = s.address[fd];
        int port = s.port[fd];
        long started = s.start[fd];
        long delay = s.delay[fd];
        int watch = s.watch[fd];
        if (address == null || race(fd) != null) {
            return;
        }
        int mptcp = Sock.dup(fd);
        if (mptcp < 0) {
            return; // closed meanwhile
        }
        // the file now behind fd is the one registered: no new connect under this number since (a new socket there
        // registers before its connect; the volatile read makes its count visible), MPTCP, connecting
        int state = published < 0 || s.seq[fd] != seq || Sock.protocol(mptcp) != LibC.IPPROTO_MPTCP ? -1
                : Sock.tcpState(mptcp);
        if (state != LibC.TCP_SYN_SENT) {
            Sock.close(mptcp);
            if (state < 0 && s.seq[fd] == seq) {
                s.start[fd] = 0; // not an MPTCP connect: nothing to learn from it either
            }
            return; // connected meanwhile: the application's thread ends the registration and learns from it
        }
        if (s.seq[fd] == seq) {
            s.start[fd] = 0; // raced: the race learns from its outcome
        }
        long cookie = Sock.cookie(mptcp);
        if (FixedPorts.fixed(fd, cookie)) {
            Sock.close(mptcp); // its source port is the application's: a second connection would need another
            return;
        }
        int domain = Sock.getInt(mptcp, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        byte[] sa = SockAddr.of(domain, address.getAddress(), port,
                address instanceof Inet6Address ? ((Inet6Address) address).getScopeId() : 0);
        int twin = sa == null || cookie < 0 ? -Errno.EINVAL : Swap.twin(mptcp, 0, true, watch != Decisions.OWN);
        if (twin < 0) {
            Sock.close(mptcp);
            Log.once(Log.Level.WARN, "race-twin", "cannot make a plain TCP socket to race an unanswered MPTCP connect ("
                    + Errno.describe(-twin) + "); it goes on alone");
            return;
        }
        int rc = Sock.connect(twin, sa, sa.length);
        if (rc != 0 && rc != -Errno.EINPROGRESS) {
            Sock.close(twin);
            Sock.close(mptcp);
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("fd " + fd + ": plain TCP to race the MPTCP connect failed at once: " + Errno.describe(-rc));
            }
            return;
        }
        synRetransBeforeFallback = fallbackAfter();
        Race r = new Race(fd, address, port, started, delay, watch, mptcp, cookie, twin, Sock.cookie(twin), now);
        put(r);
        STARTED.increment();
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("fd " + fd + ": connect to " + r.destination() + ": no MPTCP answer in " + delay
                    + " ms, plain TCP started beside it");
        }
    }

    /** net.mptcp.syn_retrans_before_tcp_fallback of this namespace (2, the kernel's default, when unreadable). */
    private static int fallbackAfter() {
        byte[] b = new byte[8];
        int n = Sock.readFile("/proc/sys/net/mptcp/syn_retrans_before_tcp_fallback", b);
        int v = 0;
        int digits = 0;
        for (int i = 0; i < n && b[i] >= '0' && b[i] <= '9'; i++, digits++) {
            v = v * 10 + b[i] - '0';
        }
        return digits == 0 ? 2 : v;
    }

    private static List<Race> live() {
        List<Race> out = new ArrayList<>();
        if (active == 0) {
            return out;
        }
        for (Race r : races) {
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /** Waits up to {@code millis} for an event of a race under way, then moves each race on. */
    private static void watch(List<Race> live, int millis) {
        int[] fds = new int[live.size() * 2];
        short[] events = new short[fds.length];
        short[] revents = new short[fds.length];
        int n = 0;
        for (Race r : live) {
            synchronized (r) {
                if (r.state == Race.RACING) {
                    fds[n] = r.mptcp;
                    events[n++] = LibC.POLLOUT;
                    fds[n] = r.twin;
                    events[n++] = LibC.POLLOUT;
                }
            }
        }
        if (n > 0) {
            Sock.poll(fds, events, revents, n, millis);
        } else {
            LockSupport.parkNanos(millis * 1_000_000L);
        }
        long now = System.nanoTime();
        int i = 0;
        for (Race r : live) {
            synchronized (r) {
                boolean polled = i < n && fds[i] == r.mptcp && r.state == Race.RACING;
                short mptcpEvents = polled ? revents[i] : 0;
                short twinEvents = polled ? revents[i + 1] : 0;
                if (polled) {
                    i += 2;
                }
                step(r, mptcpEvents, twinEvents, now);
            }
        }
    }

    /** One race moved on by what poll saw (under r's lock). */
    private static void step(Race r, short mptcpEvents, short twinEvents, long now) {
        if (!r.stillAt()) {
            remove(r); // the application closed its socket: the race ends with it
            r.release();
            return;
        }
        if (r.state != Race.RACING) {
            return; // decided: waiting for the application's thread
        }
        int mptcpState = mptcpEvents != 0 ? Sock.tcpState(r.mptcp) : LibC.TCP_SYN_SENT;
        if (mptcpState != LibC.TCP_SYN_SENT) {
            // MPTCP answered (or failed: refused, unreachable): the application sees it on its own socket
            mptcpDone(r, connectedState(mptcpState));
            return;
        }
        if (twinEvents != 0) {
            int error = Sock.getInt(r.twin, LibC.SOL_SOCKET, LibC.SO_ERROR);
            int twinState = Sock.tcpState(r.twin);
            if (error == 0 && connectedState(twinState)) {
                r.state = Race.TCP_WON;
                r.stopMptcp();
                WON_TCP.increment();
                Destinations.blackhole(r.address, r.port, (now - r.started) / 1_000_000L,
                        (now - r.twinStarted) / 1_000_000L);
            } else {
                if (error == 0 && twinState == LibC.TCP_SYN_SENT) {
                    return; // not yet (a spurious wake-up)
                }
                r.state = Race.TCP_FAILED;
                r.error = error > 0 ? error : Errno.ECONNREFUSED;
                r.stopMptcp();
                Sock.close(r.twin);
                r.twin = -1;
                TCP_FAILED.increment();
                if (Log.enabled(Log.Level.DEBUG)) {
                    Log.debug("fd " + r.fd + ": plain TCP to " + r.destination() + " failed (" + Errno.describe(r.error)
                            + ") while MPTCP had no answer: the connect fails so");
                }
            }
            return;
        }
        // neither answered: stop MPTCP before the kernel's own fallback (its plain SYN, if answered, would turn active
        // MPTCP off for the whole namespace); the plain TCP attempt goes on
        int retransmits = retransmits(r.mptcp);
        if (retransmits >= synRetransBeforeFallback) {
            r.state = Race.ABANDONED;
            r.stopMptcp();
            ABANDONED.increment();
        }
    }

    /** Whether a socket in TCP state {@code state} got through its handshake (it may be closing already). */
    private static boolean connectedState(int state) {
        return state > 0 && state != LibC.TCP_SYN_SENT && state != LibC.TCP_CLOSE && state != 10; // 10: LISTEN
    }

    /** tcpi_retransmits of a connecting socket (the SYNs retransmitted so far), or 0. */
    private static int retransmits(int fd) {
        byte[] b = new byte[4];
        return Sock.getBytes(fd, LibC.SOL_TCP, LibC.TCP_INFO, b) >= 3 ? b[2] & 0xFF : 0;
    }

    /** Remembered destinations, for status: one line each. */
    public static List<String> remembered() {
        List<String> out = new ArrayList<>();
        for (Destinations.Entry e : Destinations.entries()) {
            out.add(e.describe());
        }
        return out;
    }
}
