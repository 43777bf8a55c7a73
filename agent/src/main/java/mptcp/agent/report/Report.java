package mptcp.agent.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A status report: {@code key: value} items in display order and one row per live socket. Its wire form (a system
 * property value, read by {@code status <pid>} through the attach API) is one {@code key: value} line per item, then
 * one {@code socket: k=v k=v ...} line per socket.
 */
public final class Report {
    public final Map<String, String> items = new LinkedHashMap<>();
    public final List<Map<String, String>> sockets = new ArrayList<>();

    /** This report behind the lines {@code agent: active} and {@code pid: <pid>}, as {@code status <pid>} prints it. */
    public Report headed(String pid) {
        Report r = new Report();
        r.items.put("agent", "active");
        r.items.put("pid", pid);
        r.items.putAll(items);
        r.sockets.addAll(sockets);
        return r;
    }

    /** The wire form. */
    public String wire() {
        StringBuilder b = new StringBuilder();
        items.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
        for (Map<String, String> row : sockets) {
            b.append("socket:");
            row.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            b.append('\n');
        }
        return b.toString();
    }

    /** Parses the wire form; lines of neither form are ignored. */
    public static Report parse(String wire) {
        Report r = new Report();
        for (String line : wire.split("\n")) {
            feed(line, r.items::put, r.sockets::add);
        }
        return r;
    }

    /**
     * One line of the wire form to {@code item} ({@code key: value}) or {@code socket} ({@code socket: k=v ...});
     * false for a line of neither form (ignored).
     */
    public static boolean feed(String line, java.util.function.BiConsumer<String, String> item,
            java.util.function.Consumer<Map<String, String>> socket) {
        if (line.startsWith("socket:")) {
            Map<String, String> row = new LinkedHashMap<>();
            for (String kv : line.substring("socket:".length()).trim().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    row.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            socket.accept(row);
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
