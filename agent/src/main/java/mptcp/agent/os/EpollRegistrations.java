package mptcp.agent.os;

import java.util.ArrayList;
import java.util.List;

import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * The epoll registrations of this process on one open file, read from /proc/self/fdinfo of epoll fds
 * ({@code tfd: N events: X data: Y ... ino: I}). A registration is keyed on (file, fd number) and vanishes with the
 * old file when a socket is swapped under the same fd number (dup2/dup3): after the swap each one is added again,
 * same events and data, for the new file under the same number. That covers the JDK's selector (level-triggered; it
 * ignores epoll_ctl errors, so without this OP_ACCEPT would never fire again), the virtual-thread Poller and the
 * asynchronous channels' port (one-shot: re-added as it was, armed or not) and Netty's epoll (edge-triggered: an ADD
 * reports what is already pending).
 *
 * <p>Three lookups: {@link #of} reads every epoll fd of the process (a /proc/self/fd scan: the live listener hand-over,
 * where a socket may be watched by several); {@link #in} reads one epoll fd; {@link #reported(int)} reads nothing: it
 * is the registration a library reported with each change it made ({@link #reported(int, int, int, int)}: Netty's
 * event loops add a channel to their own epoll instance and to no other, with the fd number as the data).
 */
public final class EpollRegistrations {
    /** No registration. */
    public static final EpollRegistrations NONE = new EpollRegistrations();

    /** epfd, events, data */
    private final List<long[]> found = new ArrayList<>(2);

    private EpollRegistrations() {
    }

    /**
     * The registration of each socket as the library that made it reported it ({@link #reported(int, int, int, int)}),
     * by fd number: the epoll fd + 1 (0: none) and the events. A library's registrations have the fd number as data.
     */
    private static volatile int[] reportedEpoll = new int[1024];
    private static volatile int[] reportedEvents = new int[1024];
    /** fds from here up are not tracked (their registration is then looked up in /proc when needed). */
    private static final int MAX_TRACKED = 1 << 22;
    private static final int ADD = 1;
    private static final int DEL = 2;

    /**
     * A library changed the registration of {@code fd} in epoll fd {@code epfd}, with the fd number as its data:
     * {@code op} EPOLL_CTL_ADD or EPOLL_CTL_MOD with {@code events}, or EPOLL_CTL_DEL. Allocates nothing; no syscall.
     */
    public static void reported(int op, int epfd, int fd, int events) {
        if (fd < 0 || fd >= MAX_TRACKED || epfd < 0) {
            return;
        }
        int[] e = reportedEpoll;
        int[] ev = reportedEvents;
        if (fd >= e.length || fd >= ev.length) {
            if (op == DEL) {
                return;
            }
            synchronized (EpollRegistrations.class) {
                if (fd >= reportedEpoll.length) {
                    int size = Math.min(MAX_TRACKED, Math.max(fd + 1, reportedEpoll.length * 2));
                    reportedEvents = java.util.Arrays.copyOf(reportedEvents, size);
                    reportedEpoll = java.util.Arrays.copyOf(reportedEpoll, size);
                }
                e = reportedEpoll;
                ev = reportedEvents;
            }
        }
        if (op == DEL) {
            if (e[fd] == epfd + 1) {
                e[fd] = 0;
            }
        } else {
            ev[fd] = events;
            e[fd] = epfd + 1;
        }
    }

    /** A new socket is known under {@code fd} (made, accepted): no registration of it reported yet. */
    public static void forget(int fd) {
        int[] e = reportedEpoll;
        if (fd >= 0 && fd < e.length) {
            e[fd] = 0;
        }
    }

    /** The registration reported for {@code fd} ({@link #reported(int, int, int, int)}), or {@link #NONE}. */
    public static EpollRegistrations reported(int fd) {
        int[] e = reportedEpoll;
        int[] ev = reportedEvents;
        if (fd < 0 || fd >= e.length || fd >= ev.length || e[fd] == 0) {
            return NONE;
        }
        EpollRegistrations r = new EpollRegistrations();
        r.found.add(new long[] {e[fd] - 1, ev[fd] & 0xFFFF_FFFFL, fd});
        return r;
    }

    /** The registrations on {@code fd} whose target file has inode {@code inode}, in every epoll fd of the process. */
    public static EpollRegistrations of(int fd, long inode) {
        EpollRegistrations r = new EpollRegistrations();
        for (int epfd : ProcFs.fds("self", "anon_inode:[eventpoll]").keySet()) {
            r.read(epfd, fd, inode);
        }
        return r;
    }

    /** The registrations on {@code fd} whose target file has inode {@code inode} in epoll fd {@code epfd} (none if it is not one). */
    public static EpollRegistrations in(int epfd, int fd, long inode) {
        EpollRegistrations r = new EpollRegistrations();
        r.read(epfd, fd, inode);
        return r;
    }

    /**
     * The inode of the file behind {@code fd} ("socket:[N]" in /proc/self/fd), or -1. A readlink through jffi: no
     * java.nio.file machinery on the path of a connection kept TCP by a rule.
     */
    public static long inode(int fd) {
        byte[] link = new byte[64];
        int n = Sock.readLink("/proc/self/fd/" + fd, link);
        int open = -1;
        for (int i = 0; i < n; i++) {
            if (link[i] == '[') {
                open = i;
            }
        }
        if (open < 0 || link[n - 1] != ']') {
            return -1;
        }
        long v = 0;
        for (int i = open + 1; i < n - 1; i++) {
            if (link[i] < '0' || link[i] > '9') {
                return -1;
            }
            v = v * 10 + (link[i] - '0');
        }
        return v;
    }

    /** /proc/self/fdinfo/{@code epfd}, whole (read through jffi), or null when it cannot be read. */
    private static byte[] fdinfo(int epfd) {
        String path = "/proc/self/fdinfo/" + epfd;
        for (int size = 4096; size <= 1 << 26; size *= 4) {
            byte[] b = new byte[size];
            int n = Sock.readFile(path, b);
            if (n < 0) {
                return null; // closed meanwhile
            }
            if (n < size) {
                return java.util.Arrays.copyOf(b, n);
            }
        }
        return null;
    }

    /** Adds the registrations of (fd, inode) in epoll fd {@code epfd}; true if there was one. */
    private boolean read(int epfd, int fd, long inode) {
        byte[] b = fdinfo(epfd);
        if (b == null) {
            return false;
        }
        boolean any = false;
        for (int i = 0; i < b.length; ) {
            int end = i;
            while (end < b.length && b[end] != '\n') {
                end++;
            }
            // tfd: N events: X data: Y  pos:P ino:I sdev:D
            if (startsWith(b, i, end, "tfd:") && number(b, i + 4, end, 10) == fd) {
                int events = field(b, i, end, "events:");
                int data = field(b, i, end, "data:");
                int ino = field(b, i, end, "ino:");
                if (events > 0 && data > 0 && ino > 0 && number(b, ino, end, 16) == inode) {
                    found.add(new long[] {epfd, number(b, events, end, 16), number(b, data, end, 16)});
                    any = true;
                }
            }
            i = end + 1;
        }
        return any;
    }

    private static boolean startsWith(byte[] b, int from, int end, String word) {
        if (end - from < word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (b[from + k] != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The index just after {@code word} (at a word start) in b[from, end), or -1. */
    private static int field(byte[] b, int from, int end, String word) {
        for (int i = from; i < end; i++) {
            if ((i == from || b[i - 1] == ' ' || b[i - 1] == '\t') && startsWith(b, i, end, word)) {
                return i + word.length();
            }
        }
        return -1;
    }

    /** The unsigned number in {@code radix} at b[from...] (leading blanks skipped), or -1 if there is none. */
    private static long number(byte[] b, int from, int end, int radix) {
        int i = from;
        while (i < end && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        long v = 0;
        int digits = 0;
        for (; i < end; i++, digits++) {
            int d = Character.digit(b[i], radix);
            if (d < 0) {
                break;
            }
            v = v * radix + d; // 64-bit data wraps as the unsigned value it is
        }
        return digits == 0 ? -1 : v;
    }

    public int size() {
        return found.size();
    }

    /** The events of registration {@code i} (EPOLLIN, EPOLLET, ...). */
    public int events(int i) {
        return (int) found.get(i)[1];
    }

    /** The data of registration {@code i}. */
    public long data(int i) {
        return found.get(i)[2];
    }

    /** EPOLL_CTL_ADD of each registration for the file now behind {@code fd}; returns how many failed. */
    public int addAgain(int fd) {
        int failed = 0;
        for (long[] e : found) {
            if (Sock.epollCtl((int) e[0], LibC.EPOLL_CTL_ADD, fd, (int) e[1], e[2]) < 0) {
                failed++;
            }
        }
        return failed;
    }
}
