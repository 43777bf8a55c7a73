package mptcp.agent.config;

import java.net.Inet4Address;
import java.net.InetAddress;
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
     * @throws IllegalArgumentException one line naming where the bad rule is ({@code file:line, column c}, or
     *     {@code source, rule n, column c}), what is wrong, with an {@link Excerpt} of what was read, and what is
     *     allowed; or why the file cannot be read ({@link RulesFile})
     */
    public static Rules parse(String value, String source, boolean loopbackTcp) {
        List<Rule> rules = new ArrayList<>();
        if (value != null && !value.isEmpty()) {
            if (value.length() > RulesFile.MAX_BYTES) {
                throw new IllegalArgumentException("the rules in " + source + " are " + value.length()
                        + " characters long, more than the 1 MiB (" + RulesFile.MAX_BYTES + ") rules may take");
            }
            if (value.startsWith("@")) {
                String name = Excerpt.name(value.substring(1));
                String text = RulesFile.read(value.substring(1), "the rules file '" + name + "' (rules=@FILE in "
                        + source + ")");
                int line = 0;
                for (int at = 0; at <= text.length(); ) {
                    int nl = text.indexOf('\n', at);
                    int end = nl < 0 ? text.length() : nl;
                    line++;
                    int stop = at;
                    while (stop < end && text.charAt(stop) != '#') {
                        stop++;
                    }
                    int from = at;
                    for (int i = at; i <= stop; i++) {
                        if (i == stop || text.charAt(i) == ';') {
                            Rule r = rule(text, from, i, at, name + ", line " + line, name + ":" + line);
                            if (r != null) {
                                rules.add(r);
                            }
                            from = i + 1;
                        }
                    }
                    at = end + 1;
                }
            } else {
                int n = 0;
                for (int from = 0, i = 0; i <= value.length(); i++) {
                    if (i == value.length() || value.charAt(i) == ';') {
                        n++;
                        String origin = source + ", rule " + n;
                        Rule r = rule(value, from, i, from, origin, origin);
                        if (r != null) {
                            rules.add(r);
                        }
                        from = i + 1;
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

    /** The separators between a rule's words: ASCII blanks only (CR too, for files written on Windows). */
    private static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == 0x0B;
    }

    /** How much of a wrong action or scope an error shows: enough for a typo ("tpc", "conect"), not for a secret. */
    private static final int KEYWORD_EXCERPT = 16;

    /** A rule has 3 or 4 words; a fifth is only looked for to say there are too many. */
    private static final int MAX_WORDS = 5;

    /**
     * Finds the words of {@code text[from, to)}: the start and end of word i at {@code at[2i]}, {@code at[2i+1]}, up
     * to {@link #MAX_WORDS} words (then it stops looking).
     * @return the number of words found, at most MAX_WORDS
     */
    private static int words(String text, int from, int to, int[] at) {
        int n = 0;
        int i = from;
        while (n < MAX_WORDS) {
            while (i < to && blank(text.charAt(i))) {
                i++;
            }
            if (i >= to) {
                break;
            }
            at[2 * n] = i;
            while (i < to && !blank(text.charAt(i))) {
                i++;
            }
            at[2 * n + 1] = i;
            n++;
        }
        return n;
    }

    /**
     * The rule written in {@code text[from, to)}, or null when that is blank.
     * @param lineStart where the line (file) or the rule (inline) starts in {@code text}: columns count from there
     * @param origin how the rule is named once valid ("/etc/mptcp.rules, line 3", "agent arguments, rule 2")
     * @param place how an error names it before its column ("/etc/mptcp.rules:3", "agent arguments, rule 2")
     */
    private static Rule rule(String text, int from, int to, int lineStart, String origin, String place) {
        int[] at = new int[2 * MAX_WORDS];
        int n = words(text, from, to, at);
        if (n == 0) {
            return null;
        }
        int word = 0;
        try {
            // the action first: a line that does not start with one is no rule at all (a file that is no rules file,
            // e.g. /etc/shadow by mistake): its first word is quoted only as far as needed to recognise it
            String action = text.substring(at[0], at[1]);
            boolean tcp;
            switch (action) {
                case "tcp": tcp = true; break;
                case "mptcp": tcp = false; break;
                default: throw new IllegalArgumentException("unknown action " + Excerpt.quoted(action, KEYWORD_EXCERPT)
                        + " (tcp or mptcp)");
            }
            if (n < 3) {
                word = n; // the missing word: its column is just after the last one
                throw new IllegalArgumentException("too few words in " + Excerpt.quoted(text.substring(at[0], at[2 * n - 1]))
                        + " (a rule has 3 or 4)");
            }
            if (n > 4) {
                word = 4;
                throw new IllegalArgumentException("too many words (a rule has 3 or 4)");
            }
            word = 1;
            String scope = text.substring(at[2], at[3]);
            boolean bind;
            switch (scope) {
                case "bind": bind = true; break;
                case "connect": bind = false; break;
                default: throw new IllegalArgumentException("unknown scope " + Excerpt.quoted(scope, KEYWORD_EXCERPT)
                        + " (connect or bind)");
            }
            word = 2;
            AddressPrefix address = AddressPrefix.parse(text.substring(at[4], at[5]));
            int low = 0;
            int high = 65535;
            word = 3;
            String ports = n == 4 ? text.substring(at[6], at[7]) : "*";
            if (!ports.equals("*")) {
                int dash = ports.indexOf('-');
                low = AddressPrefix.number(dash < 0 ? ports : ports.substring(0, dash), 65535, "port");
                high = dash < 0 ? low : AddressPrefix.number(ports.substring(dash + 1), 65535, "port");
                if (high < low) {
                    throw new IllegalArgumentException("port range " + low + "-" + high + " ends before it starts");
                }
            }
            return new Rule(tcp, bind, address, low, high, origin);
        } catch (IllegalArgumentException e) {
            int column = (word < n ? at[2 * word] : at[2 * n - 1]) - lineStart + 1;
            throw new IllegalArgumentException("invalid rule (" + place + ", column " + column + "): " + e.getMessage()
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
