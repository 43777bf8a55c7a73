package mptcp.agent.report;

import java.util.Map;

/**
 * The renderings of a {@link Report}: the text of {@code status <pid>} (items, then, when the agent answered, a
 * per-interface table if any MPTCP connection was followed, and a socket table) and its JSON form (counters and
 * numbers as JSON numbers, everything else as strings, interfaces ({@code paths}) and sockets as arrays of objects).
 */
public final class Render {
    private Render() {
    }

    /** The report as {@code status} prints it: text, or JSON with {@code json}. */
    public static String render(Report r, boolean json) {
        return json ? json(r) : text(r);
    }

    private static String text(Report r) {
        StringBuilder b = new StringBuilder();
        r.items.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
        if (r.items.containsKey("version")) {
            if (!r.paths.isEmpty()) {
                table(b, r.paths, new String[] {"INTERFACE", "SENT_BYTES", "RECEIVED_BYTES", "RETRANSMITTED_BYTES",
                    "SUBFLOWS"}, new String[] {"interface", "sent_bytes", "received_bytes", "retransmitted_bytes",
                    "subflows"});
            }
            table(b, r.sockets, new String[] {"STATE", "LOCAL", "REMOTE", "PROTOCOL", "SUBFLOWS"},
                    new String[] {"state", "local", "remote", "protocol", "subflows"});
        }
        return b.toString();
    }

    /** A blank line, then a table with a header: one row per map, its values under {@code keys} ("-" if absent). */
    private static void table(StringBuilder b, java.util.List<Map<String, String>> rows, String[] cols, String[] keys) {
        int[] width = new int[cols.length];
        for (int i = 0; i < cols.length; i++) {
            width[i] = cols[i].length();
            for (Map<String, String> s : rows) {
                width[i] = Math.max(width[i], s.getOrDefault(keys[i], "-").length());
            }
        }
        b.append('\n');
        row(b, width, cols);
        for (Map<String, String> s : rows) {
            String[] v = new String[keys.length];
            for (int i = 0; i < keys.length; i++) {
                v[i] = s.getOrDefault(keys[i], "-");
            }
            row(b, width, v);
        }
    }

    private static void row(StringBuilder b, int[] width, String[] values) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            line.append(values[i]);
            if (i < values.length - 1) {
                line.append(" ".repeat(width[i] - values[i].length() + 2));
            }
        }
        b.append(line.toString().stripTrailing()).append('\n');
    }

    /** Counters and numbers as JSON numbers, everything else as strings; sockets as an array of objects. */
    private static String json(Report r) {
        StringBuilder b = new StringBuilder("{");
        r.items.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('\n').append("  ")
                .append(quote(k)).append(": ").append(value(k, v)));
        if (r.items.containsKey("version")) {
            array(b, "paths", r.paths);
            array(b, "sockets", r.sockets);
        }
        return b.append("\n}\n").toString();
    }

    /** {@code ,\n  "name": [ {...}, ... ]}: one object per row. */
    private static void array(StringBuilder b, String name, java.util.List<Map<String, String>> rows) {
        b.append(",\n  ").append(quote(name)).append(": [");
        for (int i = 0; i < rows.size(); i++) {
            b.append(i == 0 ? "\n    {" : ",\n    {");
            int[] n = {0};
            rows.get(i).forEach((k, v) -> b.append(n[0]++ > 0 ? ", " : "").append(quote(k)).append(": ")
                    .append(value(k, v)));
            b.append('}');
        }
        b.append(rows.isEmpty() ? "]" : "\n  ]");
    }

    private static String value(String key, String v) {
        boolean number = v.matches("0|[1-9][0-9]{0,18}") && !key.equals("token");
        return number ? v : quote(v);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
