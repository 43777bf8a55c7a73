package mptcp.agent.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The systemd side of {@code enable}/{@code disable}, without calling systemd: finds a service's unit file and its
 * drop-ins under a root directory, computes the {@code JAVA_TOOL_OPTIONS} the unit and its drop-ins set (the same
 * rules as systemd: {@code Environment=} lines in file order, drop-ins sorted by file name across the unit
 * directories, an empty {@code Environment=} resets the list, later assignments win; quotes and C escapes as in
 * systemd's word splitting), and writes our drop-in, which keeps that value and appends {@code -javaagent:...}.
 * The unit file itself is never edited.
 */
public final class DropIn {
    /** Our drop-in's file name: sorts after the usual numbered drop-ins, so its Environment= comes last. */
    public static final String FILE = "99-mptcp-agent.conf";
    /** Unit directories, highest priority first (systemd's system unit search path). */
    public static final List<String> DIRS = List.of("etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
            "lib/systemd/system", "usr/lib/systemd/system");

    /** What the unit and its drop-ins (ours excluded) say. */
    public static final class Unit {
        public final String name;
        public Path fragment;
        public final List<Path> dropIns = new ArrayList<>();
        /** The raw value of JAVA_TOOL_OPTIONS (unquoted, specifiers untouched), or null when not set. */
        public String javaToolOptions;
        /** The file whose Environment= set that value. */
        public Path javaToolOptionsFrom;
        /** EnvironmentFile= entries (paths as written, "-" prefix removed). */
        public final List<String> environmentFiles = new ArrayList<>();
        /** The command of the last ExecStart= (first word, prefixes removed), or null. */
        public String execStart;

        Unit(String name) {
            this.name = name;
        }
    }

    private DropIn() {
    }

    /** {@code name} as a unit name: ".service" appended when no suffix; null when it is not a service name. */
    public static String serviceName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9:_.\\\\@-]+") || name.startsWith("-")) {
            return null;
        }
        if (name.endsWith(".service")) {
            return name;
        }
        return name.matches(".*\\.(socket|target|timer|mount|path|slice|scope|device|swap|automount)") ? null : name + ".service";
    }

    /** Reads the unit {@code name} (e.g. "app.service") under {@code root}; null when no unit file exists. */
    public static Unit read(Path root, String name) throws IOException {
        Unit u = new Unit(name);
        String template = name.matches("[^@]+@[^.]+\\.service") ? name.replaceAll("@[^.]+\\.", "@.") : null;
        for (String dir : DIRS) {
            Path d = root.resolve(dir);
            if (u.fragment == null && Files.isRegularFile(d.resolve(name))) {
                u.fragment = d.resolve(name);
            }
            if (u.fragment == null && template != null && Files.isRegularFile(d.resolve(template))) {
                u.fragment = d.resolve(template);
            }
        }
        if (u.fragment == null) {
            return null;
        }
        // drop-ins: file name → path; a higher-priority directory masks the same name in a lower one
        Map<String, Path> byName = new TreeMap<>();
        for (int i = DIRS.size() - 1; i >= 0; i--) {
            for (String unitName : template == null ? List.of(name) : List.of(template, name)) {
                Path d = root.resolve(DIRS.get(i)).resolve(unitName + ".d");
                if (Files.isDirectory(d)) {
                    try (DirectoryStream<Path> s = Files.newDirectoryStream(d, "*.conf")) {
                        for (Path p : s) {
                            byName.put(p.getFileName().toString(), p);
                        }
                    }
                }
            }
        }
        byName.remove(FILE);
        u.dropIns.addAll(byName.values());
        parse(u, u.fragment, read(u.fragment));
        for (Path p : u.dropIns) {
            parse(u, p, read(p));
        }
        return u;
    }

    private static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }

    /** Applies one unit file's [Service] section to {@code u}. */
    static void parse(Unit u, Path file, String text) {
        boolean service = false;
        for (String line : logicalLines(text)) {
            String l = line.trim();
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
                continue;
            }
            if (l.startsWith("[")) {
                service = l.equals("[Service]");
                continue;
            }
            int eq = l.indexOf('=');
            if (!service || eq < 0) {
                continue;
            }
            String key = l.substring(0, eq).trim();
            String value = l.substring(eq + 1).trim();
            switch (key) {
                case "Environment":
                    if (value.isEmpty()) {
                        u.javaToolOptions = null; // an empty assignment resets the list
                        u.javaToolOptionsFrom = file;
                        break;
                    }
                    for (String word : words(value)) {
                        if (word.startsWith("JAVA_TOOL_OPTIONS=")) {
                            u.javaToolOptions = word.substring("JAVA_TOOL_OPTIONS=".length());
                            u.javaToolOptionsFrom = file;
                        }
                    }
                    break;
                case "EnvironmentFile":
                    if (value.isEmpty()) {
                        u.environmentFiles.clear();
                    } else {
                        u.environmentFiles.add(value.startsWith("-") ? value.substring(1) : value);
                    }
                    break;
                case "ExecStart":
                    if (value.isEmpty()) {
                        u.execStart = null;
                    } else {
                        String v = value.replaceFirst("^[@\\-:+!|]+", "");
                        List<String> w = words(v);
                        u.execStart = w.isEmpty() ? null : w.get(0);
                    }
                    break;
                default:
                    break;
            }
        }
    }

    /** Joins lines ending with a backslash (systemd's continuation lines). */
    static List<String> logicalLines(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.endsWith("\\") && !l.trim().startsWith("#")) {
                cur.append(l, 0, l.length() - 1).append(' ');
            } else {
                cur.append(l);
                out.add(cur.toString());
                cur.setLength(0);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    /** systemd's word splitting for Environment=: whitespace separates, "..." and '...' quote, C escapes unescaped. */
    static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (inWord) {
                    out.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'n': w.append('\n'); break;
                    case 't': w.append('\t'); break;
                    case 'r': w.append('\r'); break;
                    case 's': w.append(' '); break;
                    default: w.append(n); break;
                }
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            } else {
                w.append(c);
            }
        }
        if (inWord) {
            out.add(w.toString());
        }
        return out;
    }

    /**
     * The -javaagent option for {@code jar} with {@code options} (may be empty), single-quoted when it contains
     * whitespace (the JVM splits JAVA_TOOL_OPTIONS at whitespace outside quotes).
     */
    public static String agentOption(String jar, String options) {
        String option = "-javaagent:" + jar + (options == null || options.isEmpty() ? "" : "=" + options);
        if (!option.matches(".*\\s.*")) {
            return option;
        }
        if (option.contains("'")) {
            throw new IllegalArgumentException("the jar path " + jar + " has both whitespace and a single quote, which"
                    + " JAVA_TOOL_OPTIONS cannot carry; use a path without them");
        }
        return "'" + option + "'";
    }

    /** JAVA_TOOL_OPTIONS with the agent appended to what the unit set ({@code existing}, may be null). */
    public static String javaToolOptions(String existing, String agentOption) {
        String kept = existing == null ? "" : existing.trim();
        return kept.isEmpty() ? agentOption : kept + " " + agentOption;
    }

    /** Whether {@code javaToolOptions} already loads an mptcp-agent jar. */
    public static boolean loadsAgent(String javaToolOptions) {
        if (javaToolOptions == null) {
            return false;
        }
        for (String w : javaToolOptions.split("\\s+")) {
            w = w.startsWith("'") || w.startsWith("\"") ? w.substring(1) : w;
            if (w.startsWith("-javaagent:") && w.replaceFirst("=.*", "").matches(".*mptcp-agent[^/]*\\.jar['\"]?")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The drop-in's text. {@code existing} keeps its specifiers as written (they mean the same in the drop-in);
     * the agent's part gets '%' doubled; the whole value is double-quoted with '\' and '"' escaped.
     */
    public static String content(Unit u, String jar, String options, String commandLine) {
        String agent = agentOption(jar, options).replace("%", "%%");
        String value = "JAVA_TOOL_OPTIONS=" + javaToolOptions(u.javaToolOptions, agent);
        StringBuilder b = new StringBuilder();
        b.append("# Written by: ").append(commandLine).append('\n');
        b.append("# Loads mptcp-agent into this service's JVM. Keeps the JAVA_TOOL_OPTIONS the unit and its other drop-ins\n");
        b.append("# set (").append(u.javaToolOptions == null ? "none" : "from " + u.javaToolOptionsFrom.getFileName()).append(")");
        b.append(" and appends the agent. Remove with: java -jar ").append(jar).append(" disable ").append(u.name).append('\n');
        b.append("[Service]\n");
        b.append("Environment=\"").append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        return b.toString();
    }

    /** Whether the command looks like a JVM launcher (java, or a path ending in /java). */
    public static boolean isJvm(String command) {
        if (command == null) {
            return false;
        }
        String base = command.substring(command.lastIndexOf('/') + 1);
        return base.equals("java");
    }

    /** The names a JAVA_TOOL_OPTIONS assignment in an EnvironmentFile would have (for the override check). */
    static boolean setsJavaToolOptions(String environmentFileText) {
        for (String line : logicalLines(environmentFileText)) {
            String l = line.trim();
            if (l.startsWith("export ")) {
                l = l.substring(7).trim();
            }
            if (l.startsWith("JAVA_TOOL_OPTIONS=")) {
                return true;
            }
        }
        return false;
    }
}
