package mptcp.agent.listeners;

import java.util.Arrays;

import mptcp.agent.log.Log;
import mptcp.agent.os.EpollRegistrations;
import mptcp.sys.Errno;
import mptcp.sys.Handover;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Hands one listening socket over to a new listener of the other protocol under the same fd number: TCP to MPTCP
 * (attach, {@code enabled=true}), or MPTCP back to TCP (the roll-back, {@code enabled=false}, a rule or mode that now
 * wants TCP). Every step before the swap can be undone: on a failure the new socket is closed, the old one gets its
 * SO_REUSEPORT and reuseport program back as they were, and keeps serving as before. See the package documentation
 * for the sequence.
 */
final class Handoff {
    /** How long the application gets to accept what is left in the old accept queue once new requests are steered. */
    static final long DRAIN_LIMIT_MS = 5000;
    /** SYNs being processed while the steering program was attached: give them this long at least. */
    static final long SETTLE_MS = 20;
    /**
     * More than this off the CPU between two polls of the drain (its 5 ms sleep aside) means the process did not run
     * (stopped by SIGSTOP, or not scheduled): the application could not accept either, so that time does not count
     * against it.
     */
    static final long STALL_MS = 1000;

    private static final int IP_FREEBIND = 15;

    final Listener old;
    /** True: TCP to MPTCP; false: MPTCP back to TCP. */
    private final boolean toMptcp;
    private final boolean migrate;
    private int fresh = -1;
    private boolean reusePortSet;
    private boolean steered;
    /** Outcome details for the report line. */
    String detail = "";
    long millis;
    /** From the steering of new connections to the new listener until everything waiting on the old one moved over. */
    long windowMillis = -1;
    private long steeredAt;
    /** Time the process did not run during the drain (stopped, or not scheduled), in ms. */
    long stalledMillis;

    /**
     * @param toMptcp true: the TCP listener {@code old} is handed over to a new MPTCP listener; false: the MPTCP
     *     listener {@code old} is handed back to a new TCP listener
     * @param migrate net.ipv4.tcp_migrate_req=1: the kernel migrates the old queue at close (TCP to MPTCP only: an
     *     MPTCP listener's queued connections are MPTCP subflows, which a TCP listener cannot take over; the way back
     *     always drains)
     */
    Handoff(Listener old, boolean toMptcp, boolean migrate) {
        this.old = old;
        this.toMptcp = toMptcp;
        this.migrate = migrate && toMptcp;
    }

    /** "MPTCP" or "TCP": the protocol of the new listener. */
    private String target() {
        return toMptcp ? "MPTCP" : "TCP";
    }

    /**
     * The TCP socket of the pair, through which the kernel takes the reuseport program (it refuses it through an
     * MPTCP socket, EOPNOTSUPP): the old listener on the way to MPTCP, the new one on the way back.
     */
    private int tcpFd() {
        return toMptcp ? old.fd : fresh;
    }

    /** Whether the queue was migrated by the kernel (tcp_migrate_req=1 on the way to MPTCP) instead of drained. */
    boolean migrated() {
        return migrate;
    }

    /** Returns null when converted, else why the listener stays TCP (then rolled back). */
    String run() {
        long start = System.nanoTime();
        try {
            String why = prepare();
            if (why != null) {
                rollback();
                return why;
            }
            swap();
            return null;
        } catch (RuntimeException | LinkageError e) {
            rollback();
            return "unexpected error " + e;
        } finally {
            millis = (System.nanoTime() - start) / 1_000_000;
        }
    }

    /** Everything up to the swap; returns null or why not. */
    private String prepare() {
        fresh = Sock.open(old.domain, toMptcp ? LibC.IPPROTO_MPTCP : LibC.IPPROTO_TCP, old.v6only == 0,
                old.reuseAddress != 0);
        if (fresh < 0) {
            return "the kernel refused " + (toMptcp ? "an MPTCP" : "a TCP") + " socket: " + Errno.describe(-fresh);
        }
        Listener blank = new Listener(fresh, 0);
        for (int i = 0; i < Listener.OPTIONS.length; i++) {
            int[] o = Listener.OPTIONS[i];
            if (old.options[i] < 0 || (o[1] == LibC.IP_TOS && old.domain != LibC.AF_INET)) {
                continue;
            }
            int now = Sock.getInt(fresh, o[0], o[1]);
            if (now != old.options[i] && !(now < 0 && old.options[i] == 0)) { // unreadable on MPTCP and unset: nothing to copy
                int rc = Sock.setInt(fresh, o[0], o[1], o[2] == 1 ? old.options[i] / 2 : old.options[i]);
                if (rc < 0) {
                    return Listener.OPTION_NAMES[i] + "=" + old.options[i] + " cannot be set on " + article()
                            + " listener: " + Errno.describe(-rc);
                }
            }
        }
        byte[] linger = new byte[8];
        Sock.getBytes(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, linger);
        if (!Arrays.equals(linger, old.linger)) {
            int rc = Handover.setBytes(fresh, LibC.SOL_SOCKET, LibC.SO_LINGER, old.linger, 8);
            if (rc < 0) {
                return "SO_LINGER cannot be set on " + article() + " listener: " + Errno.describe(-rc);
            }
        }
        if (old.device.length > 0) {
            int rc = Handover.setBytes(fresh, LibC.SOL_SOCKET, Handover.SO_BINDTODEVICE, old.device, old.device.length);
            if (rc < 0) {
                return "bound to device " + new String(old.device) + ", which the new listener cannot copy: "
                        + Errno.describe(-rc);
            }
        }
        int rc = Sock.setInt(fresh, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1);
        if (rc < 0) {
            return "SO_REUSEPORT refused on the " + target() + " socket: " + Errno.describe(-rc);
        }
        rc = Sock.setInt(old.fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 1);
        if (rc < 0) {
            return "SO_REUSEPORT refused on the listener: " + Errno.describe(-rc);
        }
        reusePortSet = true;
        rc = Handover.bind(fresh, old.address, old.addressLength);
        if (rc < 0) {
            return "binding " + article() + " socket to " + old.text() + " failed: " + Errno.describe(-rc);
        }
        if ((old.statusFlags & LibC.O_NONBLOCK) != 0) {
            rc = Handover.setStatusFlags(fresh, old.statusFlags);
            if (rc < 0) {
                return "O_NONBLOCK refused: " + Errno.describe(-rc);
            }
        }
        rc = Handover.listen(fresh, old.backlog > 0 ? old.backlog : 50);
        if (rc < 0) {
            return "listen on the " + target() + " socket failed: " + Errno.describe(-rc);
        }
        // From here new connection requests are spread over both listeners until the program below steers them all to
        // the new one (member 1 of the group the two of them now form; the old listener is member 0, also when an
        // earlier hand-over left the group and its program behind: the member that closed was replaced by the last).
        rc = Handover.steerReuseport(tcpFd(), 1);
        steered = rc == 0;
        steeredAt = System.nanoTime();
        if (!steered && !migrate) {
            return "cannot steer new connections to the " + target() + " listener (SO_ATTACH_REUSEPORT_CBPF: "
                    + Errno.describe(-rc) + ")" + (toMptcp ? " and net.ipv4.tcp_migrate_req is 0" : "");
        }
        if (!migrate) {
            drain();
        }
        return null;
    }

    /**
     * Waits (bounded) until the application has accepted everything queued on the old listener and every handshake
     * that was in flight on it when the steering began has completed (then it is in that queue) or gone: those are
     * the SYN_RECV requests on this port at that moment, told apart from later ones (steered to the new listener) by
     * their remote address and port.
     */
    private void drain() {
        long start = System.nanoTime();
        long settle = start + SETTLE_MS * 1_000_000;
        long end = start + DRAIN_LIMIT_MS * 1_000_000;
        long last = start; // from here on, time the process does not run is not counted against the bound
        long ranLast = ranNanos();
        java.util.Set<String> inFlight = Handshakes.pending(old);
        int emptyInARow = 0;
        long stalled = 0;
        while (true) {
            int[] q = Listener.tcpInfoQueue(old.fd);
            int queued = q == null ? 0 : q[0];
            if (!inFlight.isEmpty()) {
                inFlight.retainAll(Handshakes.pending(old));
            }
            emptyInARow = queued == 0 && inFlight.isEmpty() ? emptyInARow + 1 : 0;
            long now = System.nanoTime();
            long ran = ranNanos();
            // this thread's time off the CPU since the last poll, its 5 ms sleep aside (without schedstat: the sleep's
            // overrun only); our own reads of /proc, however slow, ran
            long idle = ran >= 0 && ranLast >= 0 ? now - last - (ran - ranLast) - 5_000_000 : lastSleep - 5_000_000;
            last = now;
            ranLast = ran;
            if (idle > STALL_MS * 1_000_000) {
                // the process did not run (SIGSTOP, or not scheduled), nor did the application: the bound moves on
                stalled += idle;
                end += idle;
                settle = Math.max(settle, now + SETTLE_MS * 1_000_000);
                emptyInARow = queued == 0 && inFlight.isEmpty() ? 1 : 0;
            }
            stalledMillis = stalled / 1_000_000;
            if (emptyInARow >= 3 && now >= settle) {
                if (stalled > 0) {
                    detail = "; the process did not run for " + stalledMillis + " ms during the hand-over (stopped,"
                            + " or not scheduled): the " + (toMptcp ? "TCP" : "MPTCP") + " listener's queue was drained"
                            + " after it ran again, nothing lost";
                }
                return;
            }
            if (now >= end && queued == 0 && inFlight.isEmpty()) {
                return; // empty now, if not yet three polls in a row: nothing to lose by swapping
            }
            if (now >= end) {
                detail = "; the application did not empty the old " + (toMptcp ? "TCP" : "MPTCP") + " listener's"
                        + " accept queue within " + DRAIN_LIMIT_MS + " ms of running time: " + queued
                        + " connection(s) queued and " + inFlight.size() + " handshake(s) in flight there were reset"
                        + (stalled > 0 ? " (the process also did not run for " + stalledMillis + " ms, stopped or not"
                        + " scheduled, which did not count)" : "");
                return;
            }
            long before = System.nanoTime();
            sleep(5);
            lastSleep = System.nanoTime() - before;
        }
    }

    /** How long the last 5 ms sleep of the drain took, in ns. */
    private long lastSleep = 5_000_000;

    /**
     * The time this thread has run on a CPU, in ns (/proc/thread-self/schedstat, field 1), or -1 when the kernel does
     * not say (no CONFIG_SCHED_INFO).
     */
    private static long ranNanos() {
        try {
            String s = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/thread-self/schedstat")),
                    java.nio.charset.StandardCharsets.US_ASCII);
            return Long.parseLong(s.substring(0, s.indexOf(' ')));
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The commit point: the new listener takes the old fd number; then everything that held the old file follows. */
    private void swap() {
        EpollRegistrations epoll = EpollRegistrations.of(old.fd, old.inode);
        int rc = Handover.dup3(fresh, old.fd, (old.fdFlags & LibC.FD_CLOEXEC) != 0);
        if (rc < 0) {
            throw new IllegalStateException("dup3 failed: " + Errno.describe(-rc));
        }
        Sock.close(fresh);
        fresh = -1;
        int failed = epoll.addAgain(old.fd);
        int woken = Acceptors.wake(old.fd);
        windowMillis = (System.nanoTime() - steeredAt) / 1_000_000;
        // a thread may have entered accept on the old file just before the swap and not show as blocked yet
        sleep(20);
        int again = Acceptors.wake(old.fd);
        if (old.reusePort == 0) {
            String open = closeReusePort();
            if (open != null) {
                detail += "; " + open;
            }
        }
        if (failed > 0) {
            detail += "; " + failed + " epoll registration(s) could not be renewed";
        }
        if (woken < 0) {
            detail += "; threads blocked in accept could not be woken (no JDK interrupt handler)";
        }
        Log.debug("fd " + old.fd + " " + old.text() + ": " + epoll.size() + " epoll registration(s) renewed, "
                + Math.max(0, woken) + "+" + Math.max(0, again) + " blocked accept(s) woken");
    }

    /**
     * Leaves nothing joinable: clears SO_REUSEPORT on the new listener, then resets the kernel's cached "reuseport
     * fast path" of the port's bind bucket, which our own bind set (FASTREUSEPORT_STRICT: later binds by the same uid
     * with SO_REUSEPORT skip the conflict check and would succeed although no listener has the flag any more). The
     * bucket goes back to the full check after any successful bind without SO_REUSEPORT to the same port: a plain
     * socket bound to another local address of this port that conflicts with nothing, closed at once.
     * @return null, or why the port stays joinable
     */
    private String closeReusePort() {
        int rc = Sock.setInt(old.fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, 0);
        if (rc < 0) {
            return "SO_REUSEPORT could not be cleared on the " + target() + " listener (" + Errno.describe(-rc)
                    + "): processes of this uid can still bind this address";
        }
        java.util.List<byte[]> others = old.domain == LibC.AF_INET6 && old.v6only == 1
                && Throwaway.candidates(old.address, old.addressLength).isEmpty()
                ? Throwaway.forV6Only(old.address) : Throwaway.candidates(old.address, old.addressLength);
        for (byte[] other : others) {
            int fd = Sock.open(other[0] == LibC.AF_INET ? LibC.AF_INET : LibC.AF_INET6, 0, false, false);
            if (fd < 0) {
                continue;
            }
            if (other[0] == LibC.AF_INET6) {
                Sock.setInt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, 1);
            }
            Sock.setInt(fd, LibC.IPPROTO_IP, IP_FREEBIND, 1); // the loopback address need not be up
            rc = Handover.bind(fd, other, other.length);
            Sock.close(fd);
            if (rc == 0) {
                return null;
            }
        }
        return "until it closes, a socket of this uid with SO_REUSEPORT can still bind " + old.text() + " (the kernel's"
                + " reuseport fast path of the port; no unprivileged way to reset it for a dual-stack wildcard address)";
    }

    private void rollback() {
        if (steered) {
            Handover.unsteerReuseport(tcpFd()); // before the new socket closes: on the way back it is the TCP one
            steered = false;
        }
        if (fresh >= 0) {
            Sock.close(fresh);
            fresh = -1;
        }
        if (reusePortSet) {
            Sock.setInt(old.fd, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, old.reusePort);
            reusePortSet = false;
        }
    }

    /** "an MPTCP" or "a TCP". */
    private String article() {
        return toMptcp ? "an MPTCP" : "a TCP";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
