package mptcp.agent.report;

import java.util.Map;

/**
 * The renderings of a {@link Report}: the text of {@code status <pid>} (items, then a socket table when the agent
 * answered) and its JSON form (counters and numbers as JSON numbers, everything else as strings, sockets as an array
 * of objects).
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
            String[] cols = {"STATE", "LOCAL", "REMOTE", "PROTOCOL", "SUBFLOWS"};
            String[] keys = {"state", "local", "remote", "protocol", "subflows"};
            int[] width = new int[cols.length];
            for (int i = 0; i < cols.length; i++) {
                width[i] = cols[i].length();
                for (Map<String, String> s : r.sockets) {
                    width[i] = Math.max(width[i], s.getOrDefault(keys[i], "-").length());
                }
            }
            b.append('\n');
            row(b, width, cols);
            for (Map<String, String> s : r.sockets) {
                String[] v = new String[keys.length];
                for (int i = 0; i < keys.length; i++) {
                    v[i] = s.getOrDefault(keys[i], "-");
                }
                row(b, width, v);
            }
        }
        return b.toString();
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
            b.append(",\n  \"sockets\": [");
            for (int i = 0; i < r.sockets.size(); i++) {
                b.append(i == 0 ? "\n    {" : ",\n    {");
                int[] n = {0};
                r.sockets.get(i).forEach((k, v) -> b.append(n[0]++ > 0 ? ", " : "").append(quote(k)).append(": ")
                        .append(value(k, v)));
                b.append('}');
            }
            b.append(r.sockets.isEmpty() ? "]" : "\n  ]");
        }
        return b.append("\n}\n").toString();
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
