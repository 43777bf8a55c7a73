package mptcp.agent.report;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import mptcp.agent.config.Build;
import mptcp.agent.os.Addresses;
import mptcp.agent.os.ProcFs;
import mptcp.agent.paths.Paths;
import mptcp.agent.policy.Connections;
import mptcp.agent.policy.Sockets;
import mptcp.agent.policy.Stats;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * The status of the agent in this JVM, computed in this JVM on request (CLI {@code status <pid>}, MBean): counters,
 * whether MPTCP sockets can be made now, the per-interface figures of the MPTCP connections ({@code paths}), and the
 * live TCP/MPTCP sockets of the process, each classified by asking the
 * kernel about the process's own fds ({@code /proc/self/fd}, getsockname/getpeername, SO_PROTOCOL, TCP_IS_MPTCP,
 * MPTCP_INFO).
 */
public final class StatusReport {
    private StatusReport() {
    }

    /** The whole report: items, then the live sockets. */
    public static Report now() {
        Report r = new Report();
        r.items.putAll(items());
        r.paths.addAll(Paths.table());
        r.sockets.addAll(sockets());
        return r;
    }

    /** The key: value items, in display order: version, config, mptcp_available, the rules, every counter, jmx. */
    static Map<String, String> items() {
        Map<String, String> out = new LinkedHashMap<>();
        values(true).forEach((k, v) -> {
            out.put(k, String.valueOf(v));
            if (k.equals("mptcp_available")) {
                rules(out);
            }
        });
        destinations(out);
        out.put("jmx", Jmx.state());
        return out;
    }

    /** One item per destination the connect race remembers: "destination_N: ADDRESS:PORT  REASON: ...". */
    private static void destinations(Map<String, String> out) {
        List<String> remembered = mptcp.agent.policy.Races.remembered();
        for (int i = 0; i < remembered.size(); i++) {
            out.put("destination_" + (i + 1), remembered.get(i));
        }
    }

    /** One item per active rule, in order: "rule_N: RULE  (where it was written)  kept_tcp=COUNT" (tcp rules). */
    private static void rules(Map<String, String> out) {
        mptcp.agent.config.Rules rules = mptcp.agent.policy.Decisions.rules();
        for (int i = 0; i < rules.list().size(); i++) {
            mptcp.agent.config.Rules.Rule r = rules.get(i);
            out.put("rule_" + (i + 1), r + "  (" + r.origin + ")"
                    + (r.tcp ? "  kept_tcp=" + mptcp.agent.policy.Decisions.count(i) : ""));
        }
    }

    /**
     * What status and the MBean share: version, config, when and by whom it was set (config_changed_at, an ISO-8601
     * instant, and config_changed_by: "-javaagent", "attach, uid N"), mptcp_available (with {@code probe}: it opens a
     * probe socket), then every counter (Long).
     */
    static Map<String, Object> values(boolean probe) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("version", Build.VERSION);
        out.put("config", Build.activeOptions());
        long at = mptcp.agent.policy.Policy.changedAt();
        if (at != 0) { // when and by whom the configuration in force was set: at start, or by a run-time change
            out.put("config_changed_at", java.time.Instant.ofEpochMilli(at).toString());
            out.put("config_changed_by", mptcp.agent.policy.Policy.changedBy());
        }
        if (probe) {
            out.put("mptcp_available", Sockets.available());
        }
        out.putAll(Stats.snapshot());
        out.putAll(mptcp.agent.policy.Races.counters());
        out.putAll(Paths.counters());
        return out;
    }

    /** The live TCP/MPTCP sockets of this process: listeners first, then connections; by local address. */
    static List<Map<String, String>> sockets() {
        List<Map<String, String>> rows = new java.util.ArrayList<>();
        Set<String> liveKeys = new HashSet<>();
        for (int fd : ProcFs.socketFds("self").keySet()) {
            Map<String, String> r;
            try {
                r = row(fd);
            } catch (Throwable t) {
                continue; // closed meanwhile, or the native binding is broken
            }
            if (r != null) {
                rows.add(r);
                if (!r.get("remote").equals("*")) {
                    liveKeys.add(r.get("local") + " " + r.get("remote"));
                }
            }
        }
        Connections.retainAcceptedFallbacks(liveKeys);
        rows.sort((a, b) -> {
            int c = Boolean.compare(b.get("state").equals("LISTEN"), a.get("state").equals("LISTEN"));
            return c != 0 ? c : (a.get("local") + a.get("remote")).compareTo(b.get("local") + b.get("remote"));
        });
        return rows;
    }

    static Map<String, String> row(int fd) {
        if (!Addresses.isTcpFamily(fd)) {
            return null;
        }
        int protocol = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
        boolean listening = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_ACCEPTCONN) == 1;
        String local = Addresses.of(fd, false);
        String remote = listening ? "*" : Addresses.of(fd, true);
        if (local == null || remote == null) {
            return null; // not connected (yet, or any more)
        }
        Map<String, String> r = new LinkedHashMap<>();
        r.put("fd", String.valueOf(fd));
        r.put("state", listening ? "LISTEN" : state(fd));
        r.put("local", local);
        r.put("remote", remote);
        if (listening) {
            r.put("protocol", protocol == LibC.IPPROTO_MPTCP ? "mptcp" : "tcp");
            return r;
        }
        switch (Connections.negotiated(fd)) {
            case Connections.MPTCP:
                r.put("protocol", "mptcp");
                mptcpInfo(fd, r);
                break;
            case Connections.FALLBACK:
                r.put("protocol", "mptcp→tcp");
                r.put("subflows", "1");
                break;
            default:
                r.put("protocol", Connections.acceptedFallback(local + " " + remote) ? "mptcp→tcp" : "tcp");
                r.put("subflows", "1");
        }
        return r;
    }

    private static final String[] STATES = {"?", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
        "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"};

    /** The state as ss names it (tcpi_state); "?" when the kernel did not say or said something unknown. */
    static String state(int fd) {
        int s = Sock.tcpState(fd);
        return s > 0 && s < STATES.length ? STATES[s] : "?";
    }

    /** Fields of struct mptcp_info (include/uapi/linux/mptcp.h), as far as this kernel fills it. */
    private static void mptcpInfo(int fd, Map<String, String> r) {
        byte[] b = new byte[96];
        int n = Sock.getBytes(fd, LibC.SOL_MPTCP, LibC.MPTCP_INFO, b);
        if (n < 4) {
            return;
        }
        ByteBuffer info = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        int additional = info.get(0) & 0xff;
        // mptcpi_subflows counts the additional subflows; mptcpi_subflows_total (Linux 6.10+) all of them
        r.put("subflows", String.valueOf(n > 80 ? info.get(80) & 0xff : additional + 1));
        r.put("subflows_additional", String.valueOf(additional));
        r.put("subflows_max", String.valueOf(info.get(3) & 0xff));
        r.put("add_addr_signal", String.valueOf(info.get(1) & 0xff));
        r.put("add_addr_accepted", String.valueOf(info.get(2) & 0xff));
        if (n >= 16) {
            r.put("token", Integer.toHexString(info.getInt(12)));
        }
        if (n >= 43) {
            r.put("local_addr_used", String.valueOf(info.get(40) & 0xff));
            r.put("csum_enabled", String.valueOf(info.get(42) & 0xff));
        }
        if (n >= 80) {
            r.put("retransmits", String.valueOf(Integer.toUnsignedLong(info.getInt(44))));
            r.put("bytes_retrans", Long.toUnsignedString(info.getLong(48)));
            r.put("bytes_sent", Long.toUnsignedString(info.getLong(56)));
            r.put("bytes_received", Long.toUnsignedString(info.getLong(64)));
            r.put("bytes_acked", Long.toUnsignedString(info.getLong(72)));
        }
    }
}
