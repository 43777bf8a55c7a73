package mptcp.agent.listeners;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import mptcp.agent.os.ProcFs;
import mptcp.sys.Handover;

/**
 * The epoll registrations of this process on one open file, read from /proc/self/fdinfo of every epoll fd
 * ({@code tfd: N events: X data: Y ... ino: I}). A registration is keyed on (file, fd number) and vanishes with the
 * old file: after the swap each one is added again, same events and data, for the new file under the same number.
 * That covers the JDK's selector (level-triggered; it ignores epoll_ctl errors, so without this OP_ACCEPT would never
 * fire again), the virtual-thread Poller and the asynchronous channels' port (one-shot: re-added as it was, armed or
 * not) and Netty's epoll (edge-triggered: an ADD reports the connections already queued).
 */
final class EpollRegistrations {
    /** epfd, events, data */
    private final List<long[]> found = new ArrayList<>();

    private EpollRegistrations() {
    }

    /** The registrations on {@code fd} whose target file has inode {@code inode}. */
    static EpollRegistrations of(int fd, long inode) {
        EpollRegistrations r = new EpollRegistrations();
        try {
            for (int epfd : ProcFs.fds("self", "anon_inode:[eventpoll]").keySet()) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(Paths.get("/proc/self/fdinfo", String.valueOf(epfd)));
                } catch (IOException e) {
                    continue;
                }
                for (String line : lines) {
                    if (!line.startsWith("tfd:")) {
                        continue;
                    }
                    String[] f = line.trim().split("\\s+");
                    // tfd: N events: X data: Y pos:P ino:I sdev:D
                    if (f.length < 6 || Integer.parseInt(f[1]) != fd) {
                        continue;
                    }
                    long ino = -1;
                    for (String x : f) {
                        if (x.startsWith("ino:")) {
                            ino = Long.parseLong(x.substring(4), 16);
                        }
                    }
                    if (ino == inode) {
                        r.found.add(new long[] {epfd, Long.parseLong(f[3], 16), Long.parseUnsignedLong(f[5], 16)});
                    }
                }
            }
        } catch (RuntimeException e) {
            // an fdinfo line not of the expected form: nothing to re-add
        }
        return r;
    }

    int size() {
        return found.size();
    }

    /** EPOLL_CTL_ADD of each registration for the file now behind {@code fd}; returns how many failed. */
    int addAgain(int fd) {
        int failed = 0;
        for (long[] e : found) {
            if (Handover.epollCtl((int) e[0], Handover.EPOLL_CTL_ADD, fd, (int) e[1], e[2]) < 0) {
                failed++;
            }
        }
        return failed;
    }
}
