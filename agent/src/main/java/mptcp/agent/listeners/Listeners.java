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
import mptcp.agent.config.Config;
import mptcp.agent.config.Rules;
import mptcp.agent.os.ProcFs;
import mptcp.agent.policy.Stats;
import mptcp.sys.LibC;
import mptcp.sys.Sock;
import mptcp.sys.SockAddr;

/**
 * Entry point, run in the target JVM right after the agent installs on attach, and after every run-time change of
 * the configuration: makes each listening socket of this process the protocol the configuration wants for it, by a
 * hand-over under the same fd ({@link Handoff}): TCP listeners become MPTCP, and MPTCP listeners (converted earlier,
 * or made MPTCP by the agent under -javaagent) go back to TCP when the agent is switched off ({@code enabled=false}),
 * when {@code mode=client} or a {@code tcp bind} rule now says TCP; or each says why not. The result, one line per
 * listener, is also left in the system property {@link #RESULT_PROPERTY}.
 */
public final class Listeners {
    /** Set in the target JVM after the conversion: one line per listener, "\n"-separated. */
    public static final String RESULT_PROPERTY = Build.LISTENERS_PROPERTY;

    private Listeners() {
    }

    /**
     * After the configuration {@code c} took effect (attach, or a run-time change): each listener is handed over to the
     * protocol {@code c} wants for it. TCP to MPTCP only with {@code listeners=convert}; back to TCP whenever {@code c}
     * wants TCP (also with {@code listeners=keep}: that key only keeps TCP listeners TCP), but never on the first
     * attach, where an MPTCP listener is the application's own.
     * @param first the first attach (issue 11): a line for every listener; false (a run-time change): lines only for
     *     the listeners {@code c} wants of the other protocol (converted, handed back, or why not)
     * @return the report lines, also stored in {@link #RESULT_PROPERTY}
     */
    public static List<String> reconcile(Config c, boolean first) {
        // the native binding may still be loading on the agent's warm-up thread (a first attach): wait for it here,
        // since reading an int option takes native scratch memory before it touches the binding
        Sock.load();
        List<String> lines = new ArrayList<>();
        String tcp = !c.enabled ? "enabled=false" : !c.convertsServers() ? "mode=client converts no listener" : null;
        Map<Integer, Long> fds = listeningTcpFds();
        Map<Long, Integer> openCount = new HashMap<>();
        socketInodes().forEach((fd, inode) -> openCount.merge(inode, 1, Integer::sum));
        boolean migrate = migrateRequests();
        for (Map.Entry<Integer, Long> e : fds.entrySet()) {
            Listener l = new Listener(e.getKey(), e.getValue());
            String unreadable = l.read();
            String name = unreadable == null ? l.text() : "fd " + l.fd;
            String head = "listener " + name + " (fd " + l.fd + "): ";
            if (unreadable != null) {
                lines.add(head + "left as it is: " + unreadable);
                continue;
            }
            boolean mptcp = l.protocol == LibC.IPPROTO_MPTCP;
            String wantsTcp = tcp != null ? tcp : rule(c.rules, l);
            if (mptcp && (wantsTcp == null || first)) {
                if (first) {
                    lines.add(head + "already MPTCP");
                }
                continue;
            }
            if (!mptcp && wantsTcp != null) {
                if (first) {
                    Stats.LISTENERS_KEPT_TCP.increment();
                    lines.add(head + "kept TCP: " + wantsTcp);
                }
                continue;
            }
            if (!mptcp && !c.convertListeners) {
                Stats.LISTENERS_KEPT_TCP.increment();
                lines.add(head + "kept TCP: listeners=keep");
                continue;
            }
            String why = obstacle(l, openCount);
            if (why == null) {
                Handoff h = new Handoff(l, !mptcp, migrate);
                why = h.run();
                if (why == null) {
                    (mptcp ? Stats.LISTENERS_HANDED_BACK : Stats.LISTENERS_CONVERTED).increment();
                    lines.add(head + (mptcp ? "handed back to TCP (" + wantsTcp + ")" : "converted to MPTCP") + " in "
                            + h.millis + " ms" + (h.windowMillis >= 0 ? " (" + h.windowMillis + " ms from steering to swap)" : "")
                            + (h.migrated() ? " (queue migrated by the kernel, tcp_migrate_req=1)" : "") + h.detail);
                    continue;
                }
            }
            if (mptcp) {
                Stats.LISTENERS_KEPT_MPTCP.increment();
                lines.add(head + "stays MPTCP although " + wantsTcp + " wants TCP: " + why);
            } else {
                Stats.LISTENERS_KEPT_TCP.increment();
                lines.add(head + "kept TCP: " + why);
            }
        }
        System.setProperty(RESULT_PROPERTY, String.join("\n", lines));
        return lines;
    }

    /** The "tcp bind" rule that keeps this listener TCP, as text with its origin; null when none does. */
    private static String rule(Rules rules, Listener l) {
        if (rules == null) {
            return null;
        }
        byte[] ip = SockAddr.ip(l.address, l.addressLength);
        int rule = ip == null ? Rules.NONE : rules.match(true, ip, SockAddr.port(l.address));
        return rules.tcp(rule) ? "rule '" + rules.get(rule) + "' (" + rules.get(rule).origin + ")" : null;
    }

    /** Why this listener cannot be handed over to the other protocol, whichever way; null when it can be tried. */
    private static String obstacle(Listener l, Map<Long, Integer> openCount) {
        if (l.reusePort != 0) {
            return "the application set SO_REUSEPORT on it (a reuseport group of its own, not joined)";
        }
        if (openCount.getOrDefault(l.inode, 0) > 1) {
            return "the socket is open under " + openCount.get(l.inode) + " fds of this process";
        }
        int uid = ownerUid(l.inode);
        int me = myUid();
        if (uid >= 0 && me >= 0 && uid != me) {
            return "made by uid " + uid + ", this process runs as uid " + me + " (a reuseport group needs the same uid)";
        }
        return null;
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
