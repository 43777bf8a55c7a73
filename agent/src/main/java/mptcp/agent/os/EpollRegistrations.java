package mptcp.agent.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
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
 * <p>Two lookups: {@link #of} reads every epoll fd of the process (a /proc/self/fd scan: the live listener hand-over,
 * where a socket may be watched by several); {@link #in} reads the one epoll fd a library reported (Netty's event
 * loops add a channel to their own epoll instance and to no other).
 */
public final class EpollRegistrations {
    /** No registration. */
    public static final EpollRegistrations NONE = new EpollRegistrations();

    /** epfd, events, data */
    private final List<long[]> found = new ArrayList<>(2);

    private EpollRegistrations() {
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

    /** The inode of the file behind {@code fd} ("socket:[N]" in /proc/self/fd), or -1. */
    public static long inode(int fd) {
        try {
            String link = Files.readSymbolicLink(Paths.get("/proc/self/fd/" + fd)).toString();
            int open = link.indexOf('[');
            return open < 0 || !link.endsWith("]") ? -1 : Long.parseLong(link.substring(open + 1, link.length() - 1));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Adds the registrations of (fd, inode) in epoll fd {@code epfd}; true if there was one. */
    private boolean read(int epfd, int fd, long inode) {
        byte[] b;
        try {
            b = Files.readAllBytes(Paths.get("/proc/self/fdinfo/" + epfd));
        } catch (IOException | RuntimeException e) {
            return false; // closed meanwhile
        }
        boolean any = false;
        for (int i = 0; i < b.length; ) {
            int end = i;
            while (end < b.length && b[end] != '\n') {
                end++;
            }
            if (end - i > 4 && b[i] == 't' && b[i + 1] == 'f' && b[i + 2] == 'd' && b[i + 3] == ':' && tfd(b, i + 4, end) == fd) {
                long[] e = parse(epfd, new String(b, i, end - i, StandardCharsets.ISO_8859_1), inode);
                if (e != null) {
                    found.add(e);
                    any = true;
                }
            }
            i = end + 1;
        }
        return any;
    }

    /** The decimal number after "tfd:" (spaces skipped), or -1. */
    private static int tfd(byte[] b, int from, int end) {
        int i = from;
        while (i < end && b[i] == ' ') {
            i++;
        }
        int v = -1;
        for (; i < end && b[i] >= '0' && b[i] <= '9'; i++) {
            v = (v < 0 ? 0 : v * 10) + (b[i] - '0');
        }
        return v;
    }

    /** {epfd, events, data} of a "tfd: N events: X data: Y pos:P ino:I sdev:D" line whose ino is {@code inode}, or null. */
    private static long[] parse(int epfd, String line, long inode) {
        try {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6) {
                return null;
            }
            long ino = -1;
            for (String x : f) {
                if (x.startsWith("ino:")) {
                    ino = Long.parseLong(x.substring(4), 16);
                }
            }
            return ino == inode ? new long[] {epfd, Long.parseLong(f[3], 16), Long.parseUnsignedLong(f[5], 16)} : null;
        } catch (RuntimeException e) {
            return null; // not of the expected form: nothing to re-add
        }
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
