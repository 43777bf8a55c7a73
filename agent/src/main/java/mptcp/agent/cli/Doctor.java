package mptcp.agent.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks of {@code doctor}, as pure functions of what was read from one network namespace ({@link Facts}):
 * which problems there are, the command that fixes each, what this host does as an MPTCP client and server, and the
 * exit code (0 ready, 1 MPTCP unusable, 3 usable but single-path). Reading the facts is {@link DoctorCommand}'s job.
 */
public final class Doctor {
    public static final int READY = 0;
    public static final int UNUSABLE = 1;
    public static final int SINGLE_PATH = 3;

    /** What was read from the namespace. Strings are raw command or file contents; null when not available. */
    public static final class Facts {
        /** A label for the namespace, e.g. "this host (net:[4026531840])". */
        public String namespace = "?";
        public String kernel = "?";
        /** /proc/sys/net/mptcp exists. */
        public boolean sysctlDir;
        /** Every file of /proc/sys/net/mptcp: name → trimmed content. */
        public Map<String, String> sysctl = new LinkedHashMap<>();
        /** errno of socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP), 0 when it worked, -1 when not probed. */
        public int probeErrno = -1;
        public String probeError;
        /** Output of {@code ip mptcp limits show}, or null (then {@link #ipError} says why). */
        public String limits;
        /** Output of {@code ip mptcp endpoint show}, or null. */
        public String endpoints;
        public String ipError;
        /** Addresses configured on this namespace's interfaces: address → device (from {@code ip -o addr show}). */
        public Map<String, String> addresses = new LinkedHashMap<>();
        /** Put before each `sysctl`/`ip` fix, e.g. "nsenter -t 42 -n " for doctor <pid>; empty for this namespace. */
        public String fixPrefix = "";
        /** Pids of mptcpd processes in this network namespace. */
        public List<Long> mptcpd = new ArrayList<>();
        /** The namespace's MPTCP counters ({@code MPTcpExt} of /proc/net/netstat, without the prefix); empty if unread. */
        public Map<String, Long> counters = new LinkedHashMap<>();
    }

    /** One line of the report. */
    public static final class Check {
        public final String name;
        public final String status; // ok, info, warn, fail
        public final String detail;
        public final List<String> fix;

        Check(String name, String status, String detail, List<String> fix) {
            this.name = name;
            this.status = status;
            this.detail = detail;
            this.fix = fix;
        }
    }

    /** One {@code ip mptcp endpoint} entry. */
    public static final class Endpoint {
        public final String address;
        public final int id;
        public final int port;
        public final String dev;
        public final List<String> flags;

        Endpoint(String address, int id, int port, String dev, List<String> flags) {
            this.address = address;
            this.id = id;
            this.port = port;
            this.dev = dev;
            this.flags = flags;
        }

        boolean has(String flag) {
            return flags.contains(flag);
        }

        @Override
        public String toString() {
            return address + (port > 0 ? " port " + port : "") + " (" + String.join(" ", flags) + (dev != null ? ", dev " + dev : "") + ")";
        }
    }

    /** The outcome: checks in order, the client and server summaries, the exit code. */
    public static final class Result {
        public final List<Check> checks = new ArrayList<>();
        public String client = "-";
        public String server = "-";
        public int exit = READY;
        public int subflows = -1;
        public int addAddrAccepted = -1;
        public final List<Endpoint> endpoints = new ArrayList<>();

        void add(String name, String status, String detail, String... fix) {
            checks.add(new Check(name, status, detail, List.of(fix)));
        }

        public String verdict() {
            return exit == READY ? "ready: MPTCP with more than one path"
                    : exit == SINGLE_PATH ? "usable but single-path: connections are MPTCP, no second path is opened"
                    : "MPTCP unusable: sockets fall back to plain TCP";
        }
    }

    private static final Pattern LIMIT = Pattern.compile("\"?(add_addr_accepted|subflows)\"?\\s*[:\\s]\\s*(\\d+)");

    private Doctor() {
    }

    /** Parses {@code ip mptcp limits show} (text, or JSON from newer iproute2): [subflows, add_addr_accepted]. */
    public static int[] parseLimits(String text) {
        int[] out = {-1, -1};
        Matcher m = LIMIT.matcher(text == null ? "" : text);
        while (m.find()) {
            out[m.group(1).equals("subflows") ? 0 : 1] = Integer.parseInt(m.group(2));
        }
        return out;
    }

    /** Parses {@code ip mptcp endpoint show}: "ADDR [port P] id N [flags...] [dev DEV]" per line. */
    public static List<Endpoint> parseEndpoints(String text) {
        List<Endpoint> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length == 0 || t[0].isEmpty()) {
                continue;
            }
            int id = 0;
            int port = 0;
            String dev = null;
            List<String> flags = new ArrayList<>();
            for (int i = 1; i < t.length; i++) {
                if ((t[i].equals("id") || t[i].equals("port") || t[i].equals("dev")) && i + 1 < t.length) {
                    String v = t[++i];
                    if (t[i - 1].equals("dev")) {
                        dev = v;
                    } else if (v.matches("\\d{1,9}")) {
                        if (t[i - 1].equals("id")) {
                            id = Integer.parseInt(v);
                        } else {
                            port = Integer.parseInt(v);
                        }
                    }
                } else {
                    flags.add(t[i]);
                }
            }
            out.add(new Endpoint(t[0], id, port, dev, flags));
        }
        return out;
    }

    /** Parses {@code ip -o addr show} into address → device. */
    public static Map<String, String> parseAddresses(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            // "2: eth0    inet 10.0.0.2/24 brd ... scope global eth0\       valid_lft ..."
            String[] t = line.trim().split("\\s+");
            for (int i = 2; i + 1 < t.length; i++) {
                if (t[i].equals("inet") || t[i].equals("inet6")) {
                    String address = t[i + 1];
                    int slash = address.indexOf('/');
                    out.put(slash > 0 ? address.substring(0, slash) : address, t[1].replaceAll("@.*", "").replace(":", ""));
                    break;
                }
            }
        }
        return out;
    }

    public static Result evaluate(Facts f) {
        Result r = check(f);
        if (r.exit == UNUSABLE) {
            r.client = "plain TCP only (MPTCP unusable)";
            r.server = r.client;
        }
        if (!f.fixPrefix.isEmpty()) {
            for (int i = 0; i < r.checks.size(); i++) {
                Check c = r.checks.get(i);
                List<String> fix = new ArrayList<>();
                for (String x : c.fix) {
                    if (x.startsWith("echo net.mptcp.enabled=1 > /etc/sysctl.d")) {
                        // a container's namespace is set up by its runtime, not by the host's sysctl.d
                        fix.add("in Kubernetes: the pod's securityContext.sysctls [{name: net.mptcp.enabled, value: \"1\"}]"
                                + " (an unsafe sysctl: kubelet --allowed-unsafe-sysctls='net.mptcp.*')");
                    } else {
                        fix.add(x.startsWith("sysctl ") || x.startsWith("ip ") ? f.fixPrefix + x : x);
                    }
                }
                r.checks.set(i, new Check(c.name, c.status, c.detail, fix));
            }
        }
        return r;
    }

    private static Result check(Facts f) {
        Result r = new Result();
        String enabled = f.sysctl.get("enabled");
        boolean noKernel = f.probeErrno == 93 || f.probeErrno == 22 || (!f.sysctlDir && f.probeErrno != 0);
        if (noKernel) {
            r.add("kernel", "fail", "Linux " + f.kernel + " has no MPTCP (" + (f.sysctlDir ? "" : "no /proc/sys/net/mptcp; ")
                    + "socket(IPPROTO_MPTCP): " + f.probeError + ")",
                    "run a kernel 5.6 or later built with CONFIG_MPTCP=y (and CONFIG_MPTCP_IPV6=y for IPv6)");
            r.exit = UNUSABLE;
            return r;
        }
        r.add("kernel", "ok", "Linux " + f.kernel + " supports MPTCP");
        if ("0".equals(enabled) || f.probeErrno == 92) {
            r.add("enabled", "fail", "net.mptcp.enabled = " + enabled + ": every MPTCP socket is refused (ENOPROTOOPT), the"
                    + " agent falls back to TCP",
                    "sysctl -w net.mptcp.enabled=1",
                    "echo net.mptcp.enabled=1 > /etc/sysctl.d/90-mptcp.conf   # keep it after a reboot");
            r.exit = UNUSABLE;
            return r;
        }
        r.add("enabled", "ok", "net.mptcp.enabled = " + (enabled == null ? "? (not readable)" : enabled));
        if (f.probeErrno > 0) {
            r.add("socket", "fail", "socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP) fails: " + f.probeError
                    + (f.probeErrno == 13 || f.probeErrno == 1 ? " (a security module, e.g. SELinux, AppArmor or seccomp, denies it)" : ""),
                    "allow socket(..., IPPROTO_MPTCP=262) in the security policy (SELinux: the mptcp_socket class;"
                            + " seccomp: protocol 262)");
            r.exit = UNUSABLE;
            return r;
        }
        if (f.probeErrno == 0) {
            r.add("socket", "ok", "socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP) works");
        }

        String pm = f.sysctl.get("path_manager");
        if (pm == null) {
            String type = f.sysctl.get("pm_type");
            pm = "1".equals(type) ? "userspace" : "kernel";
        }
        String pmSource = f.sysctl.containsKey("path_manager") ? "net.mptcp.path_manager = " + f.sysctl.get("path_manager")
                : "net.mptcp.pm_type = " + f.sysctl.getOrDefault("pm_type", "0 (assumed)");
        if (pm.equals("userspace")) {
            if (f.mptcpd.isEmpty()) {
                r.add("path manager", "warn", "userspace (" + pmSource + ") and no mptcpd runs in this network namespace:"
                        + " nothing opens or accepts additional subflows",
                        "systemctl start mptcpd   # or run mptcpd in this namespace",
                        f.sysctl.containsKey("path_manager") ? "sysctl -w net.mptcp.path_manager=kernel   # or use the in-kernel path manager"
                                : "sysctl -w net.mptcp.pm_type=0   # or use the in-kernel path manager");
                r.client = "one path: no path manager daemon";
                r.server = "one path: no path manager daemon";
                r.exit = SINGLE_PATH;
            } else {
                r.add("path manager", "ok", "userspace (" + pmSource + "), mptcpd running (pid " + f.mptcpd.get(0)
                        + "): it decides the subflows; the in-kernel limits and endpoints are not used");
                r.client = "as mptcpd's plug-ins decide";
                r.server = "as mptcpd's plug-ins decide";
            }
            settings(f, r);
            return r;
        }
        r.add("path manager", "ok", "in-kernel (" + pmSource + ")");
        if (f.limits == null || f.endpoints == null) {
            boolean missing = f.ipError != null && f.ipError.contains("not installed");
            r.add("limits", "warn", "cannot read the path manager's limits and endpoints: " + f.ipError,
                    missing ? new String[] {"apt-get install iproute2   # doctor reads them with `ip mptcp`"} : new String[0]);
            settings(f, r);
            r.exit = SINGLE_PATH;
            r.client = "unknown (limits and endpoints not readable)";
            r.server = r.client;
            return r;
        }
        int[] limits = parseLimits(f.limits);
        r.subflows = limits[0];
        r.addAddrAccepted = limits[1];
        r.endpoints.addAll(parseEndpoints(f.endpoints));
        int subflows = Math.max(0, limits[0]);
        int accepted = Math.max(0, limits[1]);
        List<Endpoint> sub = new ArrayList<>();
        List<Endpoint> signal = new ArrayList<>();
        for (Endpoint e : r.endpoints) {
            if (e.has("subflow")) {
                sub.add(e);
            }
            if (e.has("signal")) {
                signal.add(e);
            }
            if (!f.addresses.isEmpty() && !f.addresses.containsKey(e.address)) {
                r.add("endpoint " + e.address, "warn", "endpoint " + e + " is not an address of any interface in this"
                        + " namespace: the kernel cannot use it",
                        "ip addr add " + e.address + " dev <DEV>   # or: ip mptcp endpoint delete id " + e.id);
            }
        }
        String limitText = "subflows " + limits[0] + ", add_addr_accepted " + limits[1];
        r.add("limits", subflows == 0 ? "warn" : "ok", limitText
                + (subflows == 0 ? ": no additional subflow is opened or accepted" : ""));
        r.add("endpoints", r.endpoints.isEmpty() ? "warn" : "ok", r.endpoints.isEmpty() ? "none: this host adds no path of its own"
                : describe(r.endpoints));

        // as a client
        List<String> client = new ArrayList<>();
        if (subflows > 0 && !sub.isEmpty()) {
            client.add("opens up to " + Math.min(subflows, sub.size()) + " additional subflow(s) from "
                    + addresses(sub) + (sub.stream().anyMatch(e -> e.has("fullmesh")) ? " (fullmesh: to every known server address)" : ""));
        }
        if (subflows > 0 && accepted > 0) {
            client.add("joins up to " + Math.min(subflows, accepted) + " address(es) a server announces");
        }
        r.client = client.isEmpty() ? "one path only: " + (subflows == 0 ? "subflows limit 0"
                : "no subflow endpoint, and add_addr_accepted 0 ignores the addresses servers announce")
                : String.join("; ", client);
        // as a server
        if (subflows == 0) {
            r.server = "one path only: subflows limit 0 refuses every additional subflow (MP_JOIN)";
        } else {
            r.server = "accepts up to " + subflows + " additional subflow(s) per connection from clients' other addresses; "
                    + (signal.isEmpty() ? "announces no other address of its own (no signal endpoint)"
                    : "announces " + addresses(signal) + " to clients");
        }
        boolean multipath = subflows > 0 && (!sub.isEmpty() || !signal.isEmpty() || accepted > 0);
        if (!multipath) {
            List<String> fixes = new ArrayList<>();
            fixes.add("ip mptcp limits set subflow 2 add_addr_accepted 2");
            List<String[]> candidates = candidates(f.addresses, r.endpoints);
            // the first address is usually the one peers already use; one on another interface makes a second path
            String[] candidate = {"<SECOND_ADDR>", "<DEV>"};
            for (String[] c : candidates) {
                if (!c[1].equals(candidates.get(0)[1]) && c[0].contains(":") == candidates.get(0)[0].contains(":")) {
                    candidate = c;
                    break;
                }
            }
            fixes.add("ip mptcp endpoint add " + candidate[0] + " dev " + candidate[1]
                    + " signal    # server: announce a second address to clients");
            fixes.add("ip mptcp endpoint add " + candidate[0] + " dev " + candidate[1]
                    + " subflow   # client: open a second subflow from this address");
            r.add("paths", "warn", "single-path: " + (subflows == 0 ? "the subflows limit is 0" : "no signal or subflow"
                    + " endpoint and add_addr_accepted 0") + "; MPTCP connections keep one path",
                    fixes.toArray(new String[0]));
            if (candidate[0].startsWith("<")) {
                r.add("interfaces", "info", (candidates.isEmpty() ? "no non-loopback address here"
                        : "one interface with addresses (" + candidates.get(0)[1] + ")") + ": a second path needs a second"
                        + " interface on this host (a subflow endpoint) or on the peer (its signal endpoint, and"
                        + " add_addr_accepted here)");
            }
            r.exit = SINGLE_PATH;
        } else {
            if (accepted == 0) {
                r.add("add_addr_accepted", "warn", "0: as a client this host ignores the addresses servers announce",
                        "ip mptcp limits set subflow " + Math.max(subflows, 2) + " add_addr_accepted 2");
            }
            if (sub.size() > subflows && subflows > 0) {
                r.add("subflows", "info", sub.size() + " subflow endpoints but a limit of " + subflows
                        + ": only " + subflows + " are used per connection");
            }
        }
        settings(f, r);
        return r;
    }

    private static void settings(Facts f, Result r) {
        blackhole(f, r);
        String scheduler = f.sysctl.get("scheduler");
        if (scheduler != null) {
            String available = f.sysctl.get("available_schedulers");
            r.add("scheduler", "info", scheduler + (available != null ? " (available: " + available + ")" : ""));
        }
        String checksum = f.sysctl.get("checksum_enabled");
        if (checksum != null) {
            r.add("checksum", "info", "net.mptcp.checksum_enabled = " + checksum + ("1".equals(checksum)
                    ? ": every data segment carries a DSS checksum (CPU cost; needed only across middleboxes that rewrite payload)"
                    : ": no DSS checksum unless the peer asks for one (default)"));
        }
        if ("0".equals(f.sysctl.get("allow_join_initial_addr_port"))) {
            r.add("allow_join_initial_addr_port", "info", "0: clients may not open additional subflows to the address and"
                    + " port they first connected to (only to announced addresses)");
        }
    }

    /**
     * {@code net.mptcp.syn_retrans_before_tcp_fallback} and {@code blackhole_timeout} (Linux 6.12+), what the kernel does
     * with them when a middlebox drops MPTCP SYNs, what the agent does about it, and whether the kernel already turned
     * MPTCP off in this namespace ({@code MPTcpExtBlackhole}).
     */
    private static void blackhole(Facts f, Result r) {
        String retrans = f.sysctl.get("syn_retrans_before_tcp_fallback");
        String timeout = f.sysctl.get("blackhole_timeout");
        if (retrans == null || timeout == null) {
            return; // a kernel without the blackhole detection: it falls back after 2 retransmissions, nothing more
        }
        String fallback = "where a middlebox drops MPTCP SYNs the kernel sends a plain SYN after " + retrans
                + " unanswered retransmission(s) (about " + (Integer.parseInt(retrans.matches("\\d{1,2}") ? retrans : "2") + 1)
                + " s)" + ("0".equals(timeout) ? ", for every such connect (blackhole_timeout 0: MPTCP is never turned off)"
                : " and, if that one is answered, turns active MPTCP off for this whole namespace for " + timeout
                + " s (doubled each time)");
        String detail = "net.mptcp.syn_retrans_before_tcp_fallback = " + retrans + ", blackhole_timeout = " + timeout + ": "
                + fallback + ". The agent (race=on) dials plain TCP beside an MPTCP connect unanswered after race_delay,"
                + " stops the MPTCP attempt before that fallback and remembers the destination: its JVMs neither wait"
                + " for it nor trigger it (other programs here can)";
        long disabled = f.counters.getOrDefault("Blackhole", 0L);
        if (disabled > 0 && !"0".equals(timeout)) {
            r.add("blackhole", "warn", detail + ". The kernel did turn active MPTCP off here " + disabled + " time(s)"
                    + " (MPTcpExtBlackhole; " + f.counters.getOrDefault("MPCapableSYNTXDisabled", 0L) + " connects went"
                    + " out as plain TCP because of it): it may still be off",
                    "sysctl -w net.mptcp.blackhole_timeout=" + timeout
                    + "   # writing it (any value) turns active MPTCP back on at once");
        } else {
            r.add("blackhole", "info", detail);
        }
    }

    private static String describe(List<Endpoint> endpoints) {
        List<String> out = new ArrayList<>();
        endpoints.forEach(e -> out.add(e.toString()));
        return String.join(", ", out);
    }

    private static String addresses(List<Endpoint> endpoints) {
        List<String> out = new ArrayList<>();
        endpoints.forEach(e -> out.add(e.address));
        return String.join(", ", out);
    }

    /** Local non-loopback, non-link-local addresses that are not endpoints yet, with their devices. */
    static List<String[]> candidates(Map<String, String> addresses, List<Endpoint> endpoints) {
        List<String[]> out = new ArrayList<>();
        for (Map.Entry<String, String> a : addresses.entrySet()) {
            String ip = a.getKey();
            boolean taken = endpoints.stream().anyMatch(e -> e.address.equals(ip));
            if (!taken && !a.getValue().equals("lo") && !ip.startsWith("fe80:") && !ip.startsWith("127.") && !ip.equals("::1")) {
                out.add(new String[] {ip, a.getValue()});
            }
        }
        return out;
    }

    /** Human-readable report. */
    public static String text(Facts f, Result r) {
        StringBuilder b = new StringBuilder();
        b.append("mptcp-agent doctor: ").append(f.namespace).append('\n');
        for (Check c : r.checks) {
            b.append(String.format("  %-5s %-14s %s%n", c.status, c.name, c.detail));
            for (String fix : c.fix) {
                b.append("        fix: ").append(fix).append('\n');
            }
        }
        b.append("As a client: ").append(r.client).append('\n');
        b.append("As a server: ").append(r.server).append('\n');
        b.append("Result: ").append(r.verdict()).append(" (exit ").append(r.exit).append(")\n");
        return b.toString();
    }

    /** The same as JSON. */
    public static String json(Facts f, Result r) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"namespace\": ").append(q(f.namespace)).append(",\n");
        b.append("  \"kernel\": ").append(q(f.kernel)).append(",\n");
        b.append("  \"exit\": ").append(r.exit).append(",\n");
        b.append("  \"result\": ").append(q(r.exit == READY ? "ready" : r.exit == SINGLE_PATH ? "single-path" : "unusable")).append(",\n");
        b.append("  \"client\": ").append(q(r.client)).append(",\n");
        b.append("  \"server\": ").append(q(r.server)).append(",\n");
        b.append("  \"limits\": {\"subflows\": ").append(r.subflows).append(", \"add_addr_accepted\": ")
                .append(r.addAddrAccepted).append("},\n");
        b.append("  \"endpoints\": [");
        for (int i = 0; i < r.endpoints.size(); i++) {
            Endpoint e = r.endpoints.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"address\": ").append(q(e.address)).append(", \"id\": ").append(e.id)
                    .append(", \"port\": ").append(e.port).append(", \"dev\": ").append(e.dev == null ? "null" : q(e.dev))
                    .append(", \"flags\": [");
            for (int j = 0; j < e.flags.size(); j++) {
                b.append(j == 0 ? "" : ", ").append(q(e.flags.get(j)));
            }
            b.append("]}");
        }
        b.append(r.endpoints.isEmpty() ? "],\n" : "\n  ],\n");
        b.append("  \"sysctl\": {");
        int[] n = {0};
        f.sysctl.forEach((k, v) -> b.append(n[0]++ == 0 ? "\n" : ",\n").append("    ").append(q("net.mptcp." + k)).append(": ").append(q(v)));
        b.append(f.sysctl.isEmpty() ? "},\n" : "\n  },\n");
        b.append("  \"checks\": [");
        for (int i = 0; i < r.checks.size(); i++) {
            Check c = r.checks.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(q(c.name)).append(", \"status\": ").append(q(c.status))
                    .append(", \"detail\": ").append(q(c.detail)).append(", \"fix\": [");
            for (int j = 0; j < c.fix.size(); j++) {
                b.append(j == 0 ? "" : ", ").append(q(c.fix.get(j)));
            }
            b.append("]}");
        }
        b.append(r.checks.isEmpty() ? "]\n" : "\n  ]\n");
        return b.append("}\n").toString();
    }

    static String q(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
