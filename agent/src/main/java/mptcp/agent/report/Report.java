package mptcp.agent.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A status report: {@code key: value} items in display order and one row per live socket. Its wire form (a system
 * property value, read by {@code status <pid>} through the attach API) is one {@code key: value} line per item, then
 * one {@code path: k=v k=v ...} line per interface, then one {@code socket: k=v k=v ...} line per socket.
 */
public final class Report {
    public final Map<String, String> items = new LinkedHashMap<>();
    public final List<Map<String, String>> sockets = new ArrayList<>();
    /** One row per interface: the per-path figures (interface, sent_bytes, received_bytes, ...). */
    public final List<Map<String, String>> paths = new ArrayList<>();

    /** This report behind the lines {@code agent: active} and {@code pid: <pid>}, as {@code status <pid>} prints it. */
    public Report headed(String pid) {
        Report r = new Report();
        r.items.put("agent", "active");
        r.items.put("pid", pid);
        r.items.putAll(items);
        r.paths.addAll(paths);
        r.sockets.addAll(sockets);
        return r;
    }

    /** The wire form. */
    public String wire() {
        StringBuilder b = new StringBuilder();
        items.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
        paths.forEach(row -> b.append(line(PATH, row)).append('\n'));
        sockets.forEach(row -> b.append(line(SOCKET, row)).append('\n'));
        return b.toString();
    }

    static final String SOCKET = "socket:";
    static final String PATH = "path:";

    /** One row of the wire form: {@code prefix k=v k=v ...}. */
    static String line(String prefix, Map<String, String> row) {
        StringBuilder b = new StringBuilder(prefix);
        row.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }

    /** Parses the wire form; lines of neither form are ignored. */
    public static Report parse(String wire) {
        Report r = new Report();
        for (String line : wire.split("\n")) {
            feed(line, r.items::put, r.paths::add, r.sockets::add);
        }
        return r;
    }

    /**
     * One line of the wire form to {@code item} ({@code key: value}), {@code path} ({@code path: k=v ...}) or
     * {@code socket} ({@code socket: k=v ...}); false for a line of none of these forms (ignored).
     */
    public static boolean feed(String line, java.util.function.BiConsumer<String, String> item,
            java.util.function.Consumer<Map<String, String>> path,
            java.util.function.Consumer<Map<String, String>> socket) {
        if (line.startsWith(SOCKET) || line.startsWith(PATH)) {
            boolean isSocket = line.startsWith(SOCKET);
            Map<String, String> row = new LinkedHashMap<>();
            for (String kv : line.substring((isSocket ? SOCKET : PATH).length()).trim().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    row.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            (isSocket ? socket : path).accept(row);
            return true;
        }
        int colon = line.indexOf(": ");
        if (colon > 0) {
            item.accept(line.substring(0, colon), line.substring(colon + 2));
            return true;
        }
        return false;
    }
}
