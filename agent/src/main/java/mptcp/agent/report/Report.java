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
        rows(b, PATH, paths);
        rows(b, SOCKET, sockets);
        return b.toString();
    }

    private static final String SOCKET = "socket:";
    private static final String PATH = "path:";

    private static void rows(StringBuilder b, String prefix, List<Map<String, String>> rows) {
        for (Map<String, String> row : rows) {
            b.append(prefix);
            row.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            b.append('\n');
        }
    }

    /** Parses the wire form; lines of neither form are ignored. */
    public static Report parse(String wire) {
        Report r = new Report();
        for (String line : wire.split("\n")) {
            if (line.startsWith(SOCKET)) {
                r.sockets.add(row(line.substring(SOCKET.length())));
            } else if (line.startsWith(PATH)) {
                r.paths.add(row(line.substring(PATH.length())));
            } else {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    r.items.put(line.substring(0, colon), line.substring(colon + 2));
                }
            }
        }
        return r;
    }

    private static Map<String, String> row(String kvs) {
        Map<String, String> row = new LinkedHashMap<>();
        for (String kv : kvs.trim().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                row.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return row;
    }
}
