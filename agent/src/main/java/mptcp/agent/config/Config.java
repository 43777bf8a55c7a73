package mptcp.agent.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import mptcp.agent.log.Log;

/**
 * The agent's one configuration grammar.
 *
 * <pre>
 *   options  := "" | option ("," option)*
 *   option   := key "=" value          (no spaces; keys and values are case-sensitive, lower case)
 * </pre>
 * Every key can come from three places; the first that sets it wins:
 * <ol>
 *   <li>agent arguments: {@code -javaagent:mptcp-agent.jar=mode=server,log=debug} or {@code attach <pid> mode=server}</li>
 *   <li>system property {@code -Dmptcp.agent.<key>=<value>}</li>
 *   <li>environment variable {@code MPTCP_AGENT_<KEY>=<value>}</li>
 * </ol>
 * An unknown key or a bad value makes {@link #parse} throw {@link IllegalArgumentException} with one line naming the
 * key, where it came from, and what is allowed; a bad rule of {@code rules} names its place (file and line, or rule
 * number, and column) and the rule syntax ({@link Rules}). What the line shows of the text it read (a value, a key,
 * a rule) is an {@link Excerpt}: escaped and at most 80 characters, whatever the input.
 */
public final class Config {

    /** The keys, their allowed values (first one is the default) and their meaning, for --help and the README. */
    private static final Map<String, List<String>> KEYS = new LinkedHashMap<>();
    private static final Map<String, String> HELP = new LinkedHashMap<>();

    static {
        key("enabled", "true|false", "false turns the agent off completely (kill switch); at run time (attach <pid>"
                + " enabled=false): no new MPTCP socket, MPTCP listeners handed back to TCP; true turns it on again");
        key("mode", "all|server|client", "server: only listening sockets (and so the connections they accept) become MPTCP;"
                + " client: only outgoing sockets; all: both");
        key("fallback", "tcp|fail", "when the kernel refuses MPTCP: tcp keeps a plain TCP socket (one WARN line per JVM);"
                + " fail makes the socket creation throw SocketException, like mptcpize");
        key("log", "warn|off|error|info|debug", "agent log level on stderr; debug logs every socket the agent converts");
        key("options", "compat|strict", "compat: a socket option or urgent data MPTCP lacks gets its MPTCP equivalent, or"
                + " (before connect) turns that socket into plain TCP with its state kept, one INFO line per option;"
                + " strict: the error surfaces, like mptcpize");
        key("listeners", "convert|keep", "on attach: convert hands each listening TCP socket the JVM already has over to"
                + " an MPTCP listener on the same address and fd, losing no connection (or keeps it TCP and says why);"
                + " keep leaves them TCP");
        key("log_output", "stderr|slf4j", "where the agent's log lines go: stderr, or the application's own slf4j (logger"
                + " mptcp.agent) once the application has initialised it; earlier lines go to stderr");
        key("loopback", "tcp|mptcp", "tcp: connections to loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) and"
                + " sockets bound to a loopback address stay plain TCP (MPTCP gains nothing on one path and costs);"
                + " mptcp: they become MPTCP too");
        key("rules", "RULE;RULE...|@FILE", "which sockets stay TCP, first match wins: ACTION SCOPE ADDRESS[/PREFIX]"
                + " [PORT[-PORT]] with ACTION tcp|mptcp, SCOPE connect (by destination) | bind (by local address),"
                + " e.g. 'tcp connect 10.0.0.0/8 5432;tcp bind * 9090'; @FILE: one rule per line, # comments");
        key("cache", "on|off", "on: the JDK classes the agent rewrites, and jffi's native stub, are kept for the next"
                + " start of the same agent build, in a private directory (mode 0700, reached only through directories"
                + " no other user can change): $XDG_CACHE_HOME/mptcp-agent or ~/.cache/mptcp-agent, else"
                + " mptcp-agent-UID in java.io.tmpdir (default /tmp); off: nothing is kept (the stub is written for each"
                + " start and deleted once loaded)");
        key("jdk", "on|off", "the JDK module: sockets made by java.net and java.nio (Socket, ServerSocket, the channels,"
                + " and everything built on them); off leaves them alone");
        key("netty", "on|off", "the Netty module: sockets of Netty's native transports (epoll, io_uring; shaded copies"
                + " such as grpc-netty-shaded's too); off leaves Netty's classes untouched");
        key("race", "on|off", "on: an MPTCP connect that gets no answer within race_delay also tries plain TCP to the same"
                + " destination, the first to connect wins, and a destination whose MPTCP SYNs go unanswered while TCP"
                + " answers (in two races) is dialled with plain TCP for blackhole_ttl (doubling on repeat), then probed"
                + " again; the MPTCP attempt is abandoned before the kernel's own fallback, which would turn MPTCP off for"
                + " the whole network namespace; off: the kernel alone (docs/blackholes.md)");
        key("race_delay", "250", "milliseconds (10 to 5000) an MPTCP connect may go unanswered before plain TCP is"
                + " tried beside it (longer for a destination seen to answer slowly: twice its connect time, at most 1000)");
        key("blackhole_ttl", "600", "seconds (1 to 86400) a destination that dropped MPTCP SYNs is dialled with plain"
                + " TCP at once before MPTCP is tried again; doubled each time it drops them again (at most 64 times)");
        key("paths", "on|off", "on: bytes sent and received per local interface, subflows opened and open, subflow"
                + " failures of the MPTCP connections, read from the kernel (MPTCP_FULL_INFO, Linux 6.5+) as the"
                + " application closes each connection and about every second while it lives (status, JMX); off: not"
                + " read");
    }

    /** Keys whose value is a whole number: the range allowed (the default is their one value in KEYS). */
    private static final Map<String, int[]> NUMBERS = Map.of("race_delay", new int[] {10, 5000},
            "blackhole_ttl", new int[] {1, 86400});

    /** Keys whose value is free text, checked by their own parser ({@link Rules}); their default is empty. */
    private static final java.util.Set<String> FREE = java.util.Set.of("rules");

    private static void key(String name, String values, String help) {
        KEYS.put(name, Arrays.asList(values.split("\\|")));
        HELP.put(name, help);
    }

    // The options' values as plain fields (no enum per option: each is a class to load at start-up).
    public final boolean enabled;
    /** {@code mode=all|server}: listening sockets (and so the connections they accept) become MPTCP. */
    private final boolean servers;
    /** {@code mode=all|client}: outgoing sockets become MPTCP. */
    private final boolean clients;
    /** {@code fallback=fail}: a socket the kernel refuses as MPTCP makes its creation throw (else it stays TCP). */
    public final boolean failWhenRefused;
    public final Log.Level log;
    /** {@code options=compat} (else strict): options MPTCP lacks get an equivalent or keep the socket TCP. */
    public final boolean compatOptions;
    /** On attach, convert the listeners that already exist ({@code listeners=convert}). */
    public final boolean convertListeners;
    /** {@code log_output=slf4j} (else stderr). */
    public final boolean slf4j;
    /** {@code loopback=tcp}. */
    public final boolean loopbackTcp;
    /** {@code cache=on}: rewritten classes are kept for the next start (engine.TransformCache). */
    public final boolean cache;
    /** {@code paths=on}: per-path accounting of the MPTCP connections (mptcp.agent.paths). */
    public final boolean paths;
    /** The rules of {@code rules} followed by those of {@code loopback=tcp}. */
    public final Rules rules;
    /** {@code race=on}: connects unanswered within {@link #raceDelayMillis} also try plain TCP (policy.Races). */
    public final boolean race;
    public final int raceDelayMillis;
    public final int blackholeTtlSeconds;
    /** The interception modules switched off ({@code jdk=off}, ...): their library's sockets are left alone. */
    private final java.util.Set<String> modulesOff;
    /** The effective configuration as {@code key=value,...}: shown by status, JMX and the debug log. */
    public final String text;
    /** Every key's value and, for those not defaulted, where it came from: what {@link #with} keeps. */
    private final Map<String, String> values;
    private final Map<String, String> sources;

    private Config(Map<String, String> values, Map<String, String> sources) {
        this(values, sources, null);
    }

    /** {@code keptRules}: the rules of the configuration this one changes, when neither rules nor loopback changed. */
    private Config(Map<String, String> values, Map<String, String> sources, Rules keptRules) {
        this.values = values;
        this.sources = sources;
        enabled = Boolean.parseBoolean(values.get("enabled"));
        String m = values.get("mode");
        servers = !m.equals("client");
        clients = !m.equals("server");
        failWhenRefused = values.get("fallback").equals("fail");
        log = level(values.get("log"));
        compatOptions = values.get("options").equals("compat");
        convertListeners = "convert".equals(values.get("listeners"));
        slf4j = values.get("log_output").equals("slf4j");
        loopbackTcp = values.get("loopback").equals("tcp");
        cache = values.get("cache").equals("on");
        rules = keptRules != null ? keptRules
                : Rules.parse(values.get("rules"), sources.getOrDefault("rules", "defaults"), loopbackTcp);
        race = values.get("race").equals("on");
        raceDelayMillis = Integer.parseInt(values.get("race_delay"));
        blackholeTtlSeconds = Integer.parseInt(values.get("blackhole_ttl"));
        paths = values.get("paths").equals("on");
        java.util.Set<String> off = new java.util.HashSet<>();
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : values.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (v.equals("off") && KEYS.get(k).equals(ON_OFF)) {
                off.add(k);
            }
            if (!v.isEmpty()) {
                b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v);
            }
        }
        modulesOff = java.util.Set.copyOf(off);
        text = b.toString();
    }

    private static final List<String> ON_OFF = List.of("on", "off");

    /**
     * The log level named {@code value} in lower case (a checked value: always one of them). Not Enum.valueOf: its
     * first call reads the constants through reflection, which spins method handles on JDK 18+.
     */
    private static Log.Level level(String value) {
        for (Log.Level l : Log.Level.values()) {
            if (l.name().equalsIgnoreCase(value)) {
                return l;
            }
        }
        throw new IllegalArgumentException("no log level " + value);
    }

    /** No source of options beyond the arguments (an enum, not a lambda: a lambda costs a class spun when first used). */
    private enum NoSource implements Function<String, String> {
        NONE;

        @Override
        public String apply(String name) {
            return null;
        }
    }

    /** Whether the interception module of this name ({@code "jdk"}, ...) is switched on. */
    public boolean moduleOn(String name) {
        return !modulesOff.contains(name);
    }

    /** The value of {@code key} in this configuration ("" for rules when there are none). */
    public String value(String key) {
        return values.get(key);
    }

    /** Where the value of {@code key} came from ("agent arguments", "environment variable MPTCP_AGENT_ENABLED", ...), or "default". */
    public String source(String key) {
        return sources.getOrDefault(key, "default");
    }

    /**
     * This configuration changed at run time: the keys given in {@code agentArgs} (checked as by {@link #parse})
     * replace this one's, from {@code source}; every other key keeps its value and origin. The rules are parsed again
     * only when {@code rules} or {@code loopback} changes, or a rules file is given again (a file is not read again
     * otherwise).
     */
    public Config with(String agentArgs, String source) {
        Map<String, String> given = new LinkedHashMap<>();
        arguments(agentArgs, given, new java.util.HashMap<>(), source);
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> s = new java.util.HashMap<>(sources);
        v.putAll(given);
        given.keySet().forEach(k -> s.put(k, source));
        boolean rulesKept = v.get("rules").equals(values.get("rules")) && !v.get("rules").startsWith("@")
                && v.get("loopback").equals(values.get("loopback"));
        return new Config(v, s, rulesKept ? rules : null);
    }

    /** The keys in documentation order, each with its allowed values (the first is the default). */
    public static Map<String, List<String>> keys() {
        return java.util.Collections.unmodifiableMap(KEYS);
    }

    /** What each key means, for --help and the README. */
    public static String help(String key) {
        return HELP.get(key);
    }

    /** {@code mode=all|server}. */
    public boolean convertsServers() {
        return servers;
    }

    /** {@code mode=all|client}. */
    public boolean convertsClients() {
        return clients;
    }

    public static Config defaults() {
        return parse(null, NoSource.NONE, NoSource.NONE);
    }

    /**
     * Writes agent arguments: {@code agentArgs} checked (the same errors as {@link #parse}) and rewritten with its keys
     * in documentation order. Keys given with their default value are kept: as agent arguments they still win over
     * a property or variable the application's environment may set. Used by {@code enable} for its drop-in.
     */
    public static String arguments(String agentArgs) {
        parse(agentArgs, NoSource.NONE, NoSource.NONE);
        if (agentArgs == null || agentArgs.isEmpty()) {
            return "";
        }
        Map<String, String> given = new LinkedHashMap<>();
        for (String option : agentArgs.split(",", -1)) {
            given.put(option.substring(0, option.indexOf('=')), option);
        }
        StringBuilder b = new StringBuilder();
        for (String key : KEYS.keySet()) {
            if (given.containsKey(key)) {
                b.append(b.length() == 0 ? "" : ",").append(given.get(key));
            }
        }
        return b.toString();
    }

    /** Reads the three sources of this JVM; a property or variable with our prefix but an unknown key is an error. */
    public static Config fromJvm(String agentArgs) {
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("mptcp.agent.")) {
                check(name.substring("mptcp.agent.".length()), System.getProperty(name),
                        "system property " + Excerpt.name(name));
            }
        }
        for (String name : System.getenv().keySet()) {
            if (name.startsWith("MPTCP_AGENT_")) {
                check(name.substring("MPTCP_AGENT_".length()).toLowerCase(Locale.ROOT), System.getenv(name),
                        "environment variable " + Excerpt.name(name));
            }
        }
        return parse(agentArgs, null, null); // null: the JVM's own (no lookup object, no class to load)
    }

    /**
     * @param agentArgs the agent argument string, may be null or empty
     * @param properties system property lookup ({@code mptcp.agent.<key>}); null: the JVM's system properties
     * @param environment environment lookup ({@code MPTCP_AGENT_<KEY>}); null: the JVM's environment
     */
    public static Config parse(String agentArgs, Function<String, String> properties, Function<String, String> environment) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new java.util.HashMap<>();
        arguments(agentArgs, values, sources, "agent arguments");
        for (String key : KEYS.keySet()) {
            String property = "mptcp.agent." + key;
            String env = "MPTCP_AGENT_" + key.toUpperCase(Locale.ROOT);
            String p = properties == null ? System.getProperty(property) : properties.apply(property);
            if (!values.containsKey(key) && p != null) {
                values.put(key, check(key, p, "system property " + property));
                sources.put(key, "system property " + property);
            }
            String e = environment == null ? System.getenv(env) : environment.apply(env);
            if (!values.containsKey(key) && e != null) {
                values.put(key, check(key, e, "environment variable " + env));
                sources.put(key, "environment variable " + env);
            }
            values.putIfAbsent(key, FREE.contains(key) ? "" : KEYS.get(key).get(0));
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        for (String k : KEYS.keySet()) {
            ordered.put(k, values.get(k));
        }
        return new Config(ordered, sources);
    }

    /** The options of {@code agentArgs} into {@code values}, checked, each from {@code source}. */
    private static void arguments(String agentArgs, Map<String, String> values, Map<String, String> sources, String source) {
        if (agentArgs == null || agentArgs.isEmpty()) {
            return;
        }
        for (String option : agentArgs.split(",", -1)) {
            int eq = option.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("invalid option " + Excerpt.quoted(option) + " in " + source + ": expected key=value"
                        + " separated by commas, keys: " + String.join(", ", KEYS.keySet()));
            }
            String key = option.substring(0, eq);
            check(key, option.substring(eq + 1), source);
            if (values.putIfAbsent(key, option.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("option '" + key + "' given twice in " + source);
            }
            sources.put(key, source);
        }
    }

    private static String check(String key, String value, String source) {
        List<String> allowed = KEYS.get(key);
        if (allowed == null) {
            List<String> known = new ArrayList<>(KEYS.keySet());
            throw new IllegalArgumentException("unknown option " + Excerpt.quoted(key) + " in " + source + "; known options: "
                    + String.join(", ", known));
        }
        int[] range = NUMBERS.get(key);
        if (range != null) {
            if (!value.matches("[0-9]{1,9}") || Integer.parseInt(value) < range[0] || Integer.parseInt(value) > range[1]) {
                throw new IllegalArgumentException("invalid value " + Excerpt.quoted(value) + " for option '" + key + "' in "
                        + source + "; allowed: a whole number from " + range[0] + " to " + range[1]);
            }
            return value;
        }
        if (!FREE.contains(key) && !allowed.contains(value)) {
            throw new IllegalArgumentException("invalid value " + Excerpt.quoted(value) + " for option '" + key + "' in " + source
                    + "; allowed: " + String.join("|", allowed));
        }
        return value;
    }
}
