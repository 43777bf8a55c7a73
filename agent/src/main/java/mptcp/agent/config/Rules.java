package mptcp.agent.config;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Which sockets stay plain TCP and which become MPTCP: an ordered list of rules, first match wins; a socket no rule
 * matches becomes MPTCP (as far as {@code mode} lets it).
 *
 * <pre>
 *   rules   := rule (";" rule)*                 inline: in agent arguments, -Dmptcp.agent.rules, MPTCP_AGENT_RULES
 *            | "@" path                         a file: one rule per line (or ';'-separated), '#' starts a comment
 *   rule    := action scope address [port]      tokens separated by spaces
 *   action  := "tcp" | "mptcp"
 *   scope   := "connect"                        a client socket, decided just before connect, by its destination
 *            | "bind"                           a socket bound to a local address (a listener), decided just before bind
 *   address := "*" | ipv4 ["/" 0-32] | ipv6 ["/" 0-128]     literal addresses only; IPv6 may be in [brackets]
 *   port    := "*" | 0-65535 | 0-65535 "-" 0-65535          default "*"
 * </pre>
 * An IPv4 rule also matches the IPv4-mapped IPv6 form of its addresses ({@code ::ffff:a.b.c.d}), which is how
 * dual-stack sockets see IPv4 peers; an IPv6 prefix covering {@code ::ffff:0:0/96} (such as {@code ::/0}) matches every
 * IPv4 address. {@code bind} matches the address and port the application binds to: {@code 0.0.0.0} and {@code ::}
 * (the wildcard) only by {@code *} or by rules naming them; port 0 (any free port) only by a rule whose ports include 0.
 *
 * <p>With {@code loopback=tcp} (default), these rules follow the application's own, so its rules can still make
 * loopback connections MPTCP: {@code tcp connect 127.0.0.0/8}, {@code tcp connect ::1}, {@code tcp bind 127.0.0.0/8},
 * {@code tcp bind ::1}.
 *
 * <p>A rule only ever keeps a socket TCP that would have been MPTCP; {@code mptcp} rules are exceptions to later
 * {@code tcp} rules, never a way to make MPTCP a socket the agent leaves TCP ({@code mode}, fallback).
 *
 * <p>The matching methods compare primitives only and allocate nothing.
 */
public final class Rules {
    /** Returned by the matching methods when no rule matches. */
    public static final int NONE = -1;

    public static final String SYNTAX = "ACTION SCOPE ADDRESS[/PREFIX] [PORT[-PORT]] with ACTION tcp|mptcp, SCOPE"
            + " connect|bind, ADDRESS an IPv4 or IPv6 literal or *, PORT 0-65535 or *";
    public static final String EXAMPLE = "e.g. 'tcp connect 10.0.0.0/8 5432;mptcp bind * 8080-8090' or '@/etc/mptcp.rules'";

    /** One rule. */
    public static final class Rule {
        public final boolean tcp;
        public final boolean bind;
        public final AddressPrefix address;
        public final int portLow;
        public final int portHigh;
        /** Where it was written: "agent arguments, rule 2", "/etc/mptcp.rules, line 3", "loopback=tcp". */
        public final String origin;

        Rule(boolean tcp, boolean bind, AddressPrefix address, int portLow, int portHigh, String origin) {
            this.tcp = tcp;
            this.bind = bind;
            this.address = address;
            this.portLow = portLow;
            this.portHigh = portHigh;
            this.origin = origin;
        }

        /** The rule in its normal form, e.g. {@code tcp connect 10.0.0.0/8 5432}. */
        @Override
        public String toString() {
            String port = portLow == 0 && portHigh == 65535 ? "" : portLow == portHigh ? " " + portLow
                    : " " + portLow + "-" + portHigh;
            return (tcp ? "tcp" : "mptcp") + (bind ? " bind " : " connect ") + address + port;
        }
    }

    private final List<Rule> list;
    // the rules, flattened for the matching loop
    private final boolean[] bind;
    private final long[] hi;
    private final long[] lo;
    private final long[] maskHi;
    private final long[] maskLo;
    private final int[] portLow;
    private final int[] portHigh;
    private final boolean anyTcpConnect;
    private final boolean anyTcpBind;
    /** The text the rules came from (without the loopback ones), for the configuration line. */
    public final String text;

    private Rules(List<Rule> rules, String text) {
        this.list = Collections.unmodifiableList(new ArrayList<>(rules));
        this.text = text;
        int n = rules.size();
        bind = new boolean[n];
        hi = new long[n];
        lo = new long[n];
        maskHi = new long[n];
        maskLo = new long[n];
        portLow = new int[n];
        portHigh = new int[n];
        boolean tcpConnect = false;
        boolean tcpBind = false;
        for (int i = 0; i < n; i++) {
            Rule r = rules.get(i);
            bind[i] = r.bind;
            hi[i] = r.address.hi;
            lo[i] = r.address.lo;
            maskHi[i] = r.address.maskHi;
            maskLo[i] = r.address.maskLo;
            portLow[i] = r.portLow;
            portHigh[i] = r.portHigh;
            tcpConnect |= r.tcp && !r.bind;
            tcpBind |= r.tcp && r.bind;
        }
        anyTcpConnect = tcpConnect;
        anyTcpBind = tcpBind;
    }

    /** The rules in order (the loopback ones last), for status and logs. */
    public List<Rule> list() {
        return list;
    }

    public Rule get(int index) {
        return list.get(index);
    }

    /** False when no connect rule says tcp: every connect decision is then MPTCP, no need to match. */
    public boolean decidesConnect() {
        return anyTcpConnect;
    }

    /** False when no bind rule says tcp. */
    public boolean decidesBind() {
        return anyTcpBind;
    }

    /** True when the rule at {@code index} (from a matching method, may be {@link #NONE}) keeps the socket TCP. */
    public boolean tcp(int index) {
        return index >= 0 && list.get(index).tcp;
    }

    /**
     * The first rule of {@code scope} (bind or connect) matching the IPv6 address {@code addrHi:addrLo} (the 16
     * address bytes as two big-endian longs) and {@code port}, or {@link #NONE}.
     */
    public int match(boolean scopeBind, long addrHi, long addrLo, int port) {
        for (int i = 0; i < bind.length; i++) {
            if (bind[i] == scopeBind && (addrHi & maskHi[i]) == hi[i] && (addrLo & maskLo[i]) == lo[i]
                    && port >= portLow[i] && port <= portHigh[i]) {
                return i;
            }
        }
        return NONE;
    }

    /** The same for the IPv4 address {@code addr} ({@code a.b.c.d} = a << 24 | b << 16 | c << 8 | d, as {@code Inet4Address.hashCode()}). */
    public int match4(boolean scopeBind, int addr, int port) {
        return match(scopeBind, 0, AddressPrefix.MAPPED | (addr & 0xFFFF_FFFFL), port);
    }

    /** The same for 16 (IPv6) or 4 (IPv4) address bytes in network order. */
    public int match(boolean scopeBind, byte[] addr, int port) {
        if (addr.length == 4) {
            return match4(scopeBind, (addr[0] & 0xFF) << 24 | (addr[1] & 0xFF) << 16 | (addr[2] & 0xFF) << 8 | addr[3] & 0xFF, port);
        }
        return match(scopeBind, longAt(addr, 0), longAt(addr, 8), port);
    }

    /** Convenience for tests and logs (allocates: {@code getAddress()} copies); the JDK handlers use the primitives. */
    public int match(boolean scopeBind, InetAddress addr, int port) {
        return addr instanceof Inet4Address ? match4(scopeBind, addr.hashCode(), port) : match(scopeBind, addr.getAddress(), port);
    }

    /** Big-endian long from 8 bytes at {@code off}. */
    public static long longAt(byte[] b, int off) {
        long v = 0;
        for (int i = off; i < off + 8; i++) {
            v = v << 8 | (b[i] & 0xFF);
        }
        return v;
    }

    /** The rules of the loopback key alone (no application rules). */
    public static Rules loopback(boolean tcp) {
        return parse(null, "", tcp);
    }

    /**
     * @param value the value of the {@code rules} key: inline rules, {@code @path}, or null/empty for none
     * @param source where the value came from ("agent arguments", "system property mptcp.agent.rules", ...)
     * @param loopbackTcp {@code loopback=tcp}: append the loopback rules
     * @throws IllegalArgumentException one line naming the bad rule, where it is and what is allowed; or the file
     *     that cannot be read
     */
    public static Rules parse(String value, String source, boolean loopbackTcp) {
        List<Rule> rules = new ArrayList<>();
        if (value != null && !value.isEmpty()) {
            if (value.startsWith("@")) {
                String file = value.substring(1);
                List<String> lines;
                try {
                    Path path = Paths.get(file);
                    lines = Files.readAllLines(path, StandardCharsets.UTF_8);
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("cannot read the rules file '" + file + "' (rules=@" + file + " in "
                            + source + "): " + reason(e));
                }
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    int hash = line.indexOf('#');
                    if (hash >= 0) {
                        line = line.substring(0, hash);
                    }
                    for (String rule : line.split(";", -1)) {
                        if (!rule.isBlank()) {
                            rules.add(rule(rule, file + ", line " + (i + 1)));
                        }
                    }
                }
            } else {
                int n = 0;
                for (String rule : value.split(";", -1)) {
                    n++;
                    if (!rule.isBlank()) {
                        rules.add(rule(rule, source + ", rule " + n));
                    }
                }
            }
        }
        if (loopbackTcp) {
            Collections.addAll(rules, LOOPBACK);
        }
        return new Rules(rules, value == null ? "" : value);
    }

    /**
     * The rules of {@code loopback=tcp}: {@code tcp connect 127.0.0.0/8}, {@code tcp connect ::1}, {@code tcp bind
     * 127.0.0.0/8}, {@code tcp bind ::1} (as RulesTest checks), made from their values: nothing parsed at start-up.
     */
    private static final Rule[] LOOPBACK = {
        new Rule(true, false, AddressPrefix.LOOPBACK4, 0, 65535, "loopback=tcp"),
        new Rule(true, false, AddressPrefix.LOOPBACK6, 0, 65535, "loopback=tcp"),
        new Rule(true, true, AddressPrefix.LOOPBACK4, 0, 65535, "loopback=tcp"),
        new Rule(true, true, AddressPrefix.LOOPBACK6, 0, 65535, "loopback=tcp"),
    };

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** The words of {@code text}, split at runs of whitespace (no regex: this runs at every start). */
    static String[] words(String text) {
        List<String> words = new ArrayList<>(4);
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i > start) {
                words.add(text.substring(start, i));
            }
        }
        return words.isEmpty() ? new String[] {""} : words.toArray(new String[0]);
    }

    private static Rule rule(String text, String origin) {
        String[] t = words(text);
        try {
            if (t.length < 3 || t.length > 4) {
                throw new IllegalArgumentException(t.length < 3 ? "too few words" : "too many words");
            }
            boolean tcp;
            switch (t[0]) {
                case "tcp": tcp = true; break;
                case "mptcp": tcp = false; break;
                default: throw new IllegalArgumentException("unknown action '" + t[0] + "'");
            }
            boolean bind;
            switch (t[1]) {
                case "bind": bind = true; break;
                case "connect": bind = false; break;
                default: throw new IllegalArgumentException("unknown scope '" + t[1] + "'");
            }
            AddressPrefix address = AddressPrefix.parse(t[2]);
            int low = 0;
            int high = 65535;
            if (t.length == 4 && !t[3].equals("*")) {
                int dash = t[3].indexOf('-');
                low = AddressPrefix.number(dash < 0 ? t[3] : t[3].substring(0, dash), 65535, "port");
                high = dash < 0 ? low : AddressPrefix.number(t[3].substring(dash + 1), 65535, "port");
                if (high < low) {
                    throw new IllegalArgumentException("port range " + t[3] + " ends before it starts");
                }
            }
            return new Rule(tcp, bind, address, low, high, origin);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid rule '" + text.trim() + "' (" + origin + "): " + e.getMessage()
                    + "; a rule is " + SYNTAX + ", rules separated by ';' (" + EXAMPLE + ")");
        }
    }

    /** The rules, one per line with their origin, for status. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < list.size(); i++) {
            b.append(i + 1).append(". ").append(list.get(i)).append("  (").append(list.get(i).origin).append(")\n");
        }
        return b.toString();
    }
}
