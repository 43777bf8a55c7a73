package mptcp.agent.listeners;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import mptcp.agent.config.Build;
import mptcp.agent.config.Rules;
import mptcp.agent.os.ProcFs;
import mptcp.agent.policy.Stats;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.SockAddr;

/**
 * Entry point, run once in the target JVM right after the agent installs on attach: finds the listening TCP sockets
 * of this process and converts each (or says why not). The result, one line per listener, is left in the system
 * property {@link #RESULT_PROPERTY} for the attach command to print.
 */
public final class Listeners {
    /** Set in the target JVM after the conversion: one line per listener, "\n"-separated. */
    public static final String RESULT_PROPERTY = Build.LISTENERS_PROPERTY;

    private Listeners() {
    }

    /**
     * @param convert false for {@code listeners=keep}, or when listeners are not converted at all ({@code keepReason})
     * @param keepReason why listeners are kept when {@code convert} is false
     * @param rules the bind rules (rules=, loopback=tcp): a listener whose address a "tcp bind" rule matches stays TCP,
     *     as it would have been made TCP; null: none
     * @return the report lines, also stored in {@link #RESULT_PROPERTY}
     */
    public static List<String> run(boolean convert, String keepReason, Rules rules) {
        List<String> lines = new ArrayList<>();
        Map<Integer, Long> fds = listeningTcpFds();
        Map<Long, Integer> openCount = new HashMap<>();
        socketInodes().forEach((fd, inode) -> openCount.merge(inode, 1, Integer::sum));
        boolean migrate = migrateRequests();
        for (Map.Entry<Integer, Long> e : fds.entrySet()) {
            Listener l = new Listener(e.getKey(), e.getValue());
            String why = l.read();
            String name = why == null ? l.text() : "fd " + l.fd;
            if (why == null && l.protocol == LibC.IPPROTO_MPTCP) {
                lines.add("listener " + name + " (fd " + l.fd + "): already MPTCP");
                continue;
            }
            if (why == null && !convert) {
                why = keepReason;
            }
            if (why == null && rules != null) {
                byte[] ip = SockAddr.ip(l.address, l.addressLength);
                int rule = ip == null ? Rules.NONE : rules.match(true, ip, SockAddr.port(l.address));
                if (rules.tcp(rule)) {
                    why = "rule '" + rules.get(rule) + "' (" + rules.get(rule).origin + ")";
                }
            }
            if (why == null && l.reusePort != 0) {
                why = "the application set SO_REUSEPORT on it (a reuseport group of its own, not joined)";
            }
            if (why == null && openCount.getOrDefault(l.inode, 0) > 1) {
                why = "the socket is open under " + openCount.get(l.inode) + " fds of this process";
            }
            if (why == null) {
                int uid = ownerUid(l.inode);
                int me = myUid();
                if (uid >= 0 && me >= 0 && uid != me) {
                    why = "made by uid " + uid + ", this process runs as uid " + me + " (a reuseport group needs the same uid)";
                }
            }
            if (why != null) {
                Stats.LISTENERS_KEPT_TCP.increment();
                lines.add("listener " + name + " (fd " + l.fd + "): kept TCP: " + why);
                continue;
            }
            Handoff h = new Handoff(l, migrate);
            why = h.run();
            if (why == null) {
                Stats.LISTENERS_CONVERTED.increment();
                lines.add("listener " + name + " (fd " + l.fd + "): converted to MPTCP in " + h.millis + " ms"
                        + (h.windowMillis >= 0 ? " (" + h.windowMillis + " ms from steering to swap)" : "")
                        + (migrate ? " (queue migrated by the kernel, tcp_migrate_req=1)" : "") + h.detail);
            } else {
                Stats.LISTENERS_KEPT_TCP.increment();
                lines.add("listener " + name + " (fd " + l.fd + "): kept TCP: " + why);
            }
        }
        System.setProperty(RESULT_PROPERTY, String.join("\n", lines));
        return lines;
    }

    /** fd → socket inode of every socket of this process. */
    private static Map<Integer, Long> socketInodes() {
        Map<Integer, Long> out = new TreeMap<>();
        ProcFs.socketFds("self").forEach((fd, inode) -> out.put(fd, Long.parseLong(inode)));
        return out;
    }

    /** fd → inode of the stream sockets in LISTEN state (TCP or MPTCP), by fd number. */
    static Map<Integer, Long> listeningTcpFds() {
        Map<Integer, Long> out = new TreeMap<>();
        socketInodes().forEach((fd, inode) -> {
            int protocol = Sock.protocol(fd);
            if ((protocol == LibC.IPPROTO_TCP || protocol == LibC.IPPROTO_MPTCP)
                    && Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_TYPE) == LibC.SOCK_STREAM
                    && Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_ACCEPTCONN) == 1) {
                out.put(fd, inode);
            }
        });
        return out;
    }

    /** net.ipv4.tcp_migrate_req of this process's network namespace (read at close time by the kernel). */
    static boolean migrateRequests() {
        try {
            return new String(Files.readAllBytes(Paths.get("/proc/sys/net/ipv4/tcp_migrate_req"))).trim().equals("1");
        } catch (IOException e) {
            return false;
        }
    }

    /** The uid column of the socket in /proc/self/net/tcp{,6}, or -1. */
    private static int ownerUid(long inode) {
        for (String table : new String[] {"tcp", "tcp6"}) {
            try {
                for (String line : Files.readAllLines(Paths.get("/proc/self/net", table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[9].equals(String.valueOf(inode))) {
                        return Integer.parseInt(f[7]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // no such table
            }
        }
        return -1;
    }

    private static int myUid() {
        try {
            return (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
