package mptcp.agent.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The renderings of a {@link Report}: the text of {@code status <pid>} (items, then a socket table when the agent
 * answered) and its JSON form (counters and numbers as JSON numbers, everything else as strings, sockets as an array
 * of objects). {@link Stream} renders as the report arrives, holding at most {@link #TABLE_ROWS} rows (the rows the
 * text table's column widths are taken from), so that a JVM with any number of connections is printed in bounded
 * memory.
 */
public final class Render {
    /** Rows read before the text table's column widths are fixed; a later, wider value shifts its own line only. */
    public static final int TABLE_ROWS = 1000;
    private static final String[] COLUMNS = {"STATE", "LOCAL", "REMOTE", "PROTOCOL", "SUBFLOWS"};
    private static final String[] KEYS = {"state", "local", "remote", "protocol", "subflows"};

    private Render() {
    }

    /** The report as {@code status} prints it: text, or JSON with {@code json}. */
    public static String render(Report r, boolean json) {
        StringBuilder b = new StringBuilder();
        Stream s = new Stream(b, json, Integer.MAX_VALUE);
        r.items.forEach(s::item);
        r.sockets.forEach(s::socket);
        s.end();
        return b.toString();
    }

    /** A report rendered item by item and row by row, in the order {@link Report#wire} has them. */
    public static final class Stream {
        private final Appendable out;
        private final boolean json;
        private final int hold;
        private final List<Map<String, String>> held = new ArrayList<>();
        private int[] width;
        private boolean answered;
        private boolean table;
        private int items;
        private int rows;

        /** @param hold rows held to size the text table's columns (JSON holds none) */
        public Stream(Appendable out, boolean json, int hold) {
            this.out = out;
            this.json = json;
            this.hold = hold;
            if (json) {
                write("{");
            }
        }

        public void item(String k, String v) {
            if (k.equals("version")) {
                answered = true;
            }
            if (json) {
                write((items > 0 ? "," : "") + "\n  " + quote(k) + ": " + value(k, v));
            } else {
                write(k + ": " + v + "\n");
            }
            items++;
        }

        public void socket(Map<String, String> row) {
            if (json) {
                if (rows == 0) {
                    write(",\n  \"sockets\": [");
                }
                StringBuilder b = new StringBuilder(rows == 0 ? "\n    {" : ",\n    {");
                int[] n = {0};
                row.forEach((k, v) -> b.append(n[0]++ > 0 ? ", " : "").append(quote(k)).append(": ").append(value(k, v)));
                write(b.append('}').toString());
            } else if (width == null) {
                held.add(row);
                if (held.size() >= hold) {
                    header();
                }
            } else {
                row(row);
            }
            rows++;
        }

        /** The end of the report. */
        public void end() {
            if (json) {
                if (answered) {
                    write(rows == 0 ? ",\n  \"sockets\": []" : "\n  ]");
                }
                write("\n}\n");
            } else if (answered && width == null) {
                header();
            }
        }

        private void header() {
            width = new int[COLUMNS.length];
            for (int i = 0; i < COLUMNS.length; i++) {
                width[i] = COLUMNS[i].length();
                for (Map<String, String> s : held) {
                    width[i] = Math.max(width[i], s.getOrDefault(KEYS[i], "-").length());
                }
            }
            write("\n");
            line(COLUMNS);
            for (Map<String, String> s : held) {
                row(s);
            }
            held.clear();
        }

        private void row(Map<String, String> s) {
            String[] v = new String[KEYS.length];
            for (int i = 0; i < KEYS.length; i++) {
                v[i] = s.getOrDefault(KEYS[i], "-");
            }
            line(v);
        }

        private void line(String[] values) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < values.length; i++) {
                line.append(values[i]);
                if (i < values.length - 1) {
                    line.append(" ".repeat(Math.max(2, width[i] - values[i].length() + 2)));
                }
            }
            write(line.toString().stripTrailing() + "\n");
        }

        private void write(String s) {
            try {
                out.append(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static String value(String key, String v) {
        boolean number = v.matches("0|[1-9][0-9]{0,18}") && !key.equals("token");
        return number ? v : quote(v);
    }

    /** {@code s} as a JSON string. */
    public static String quote(String s) {
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
