package mptcp.agent.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The renderings of a {@link Report}: the text of {@code status <pid>} (items, then, when the agent answered, a
 * per-interface table if any MPTCP connection was followed, and a socket table) and its JSON form (counters and
 * numbers as JSON numbers, everything else as strings, interfaces ({@code paths}) and sockets as arrays of objects).
 * {@link Stream} renders as the report arrives, holding the interface rows (a few) and at most {@link #TABLE_ROWS}
 * socket rows (the rows the text table's column widths are taken from), so that a JVM with any number of connections
 * is printed in bounded memory.
 */
public final class Render {
    /** Rows read before the text table's column widths are fixed; a later, wider value shifts its own line only. */
    public static final int TABLE_ROWS = 1000;
    private static final String[] COLUMNS = {"STATE", "LOCAL", "REMOTE", "PROTOCOL", "SUBFLOWS"};
    private static final String[] KEYS = {"state", "local", "remote", "protocol", "subflows"};
    private static final String[] PATH_COLUMNS = {"INTERFACE", "SENT_BYTES", "RECEIVED_BYTES", "RETRANSMITTED_BYTES",
        "SUBFLOWS"};
    private static final String[] PATH_KEYS = {"interface", "sent_bytes", "received_bytes", "retransmitted_bytes",
        "subflows"};

    private Render() {
    }

    /** The report as {@code status} prints it: text, or JSON with {@code json}. */
    public static String render(Report r, boolean json) {
        StringBuilder b = new StringBuilder();
        Stream s = new Stream(b, json, Integer.MAX_VALUE);
        r.items.forEach(s::item);
        r.paths.forEach(s::path);
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
        private List<Map<String, String>> paths = new ArrayList<>();
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

        /** An interface row; all of them come before the first socket row. */
        public void path(Map<String, String> row) {
            if (paths != null) {
                paths.add(row);
            }
        }

        /** The interface rows, once, before the first socket row or at the end. */
        private void paths() {
            if (paths == null || !answered) {
                return;
            }
            if (json) {
                StringBuilder b = new StringBuilder(",\n  \"paths\": [");
                for (int i = 0; i < paths.size(); i++) {
                    b.append(i == 0 ? "\n    {" : ",\n    {");
                    int[] n = {0};
                    paths.get(i).forEach((k, v) -> b.append(n[0]++ > 0 ? ", " : "").append(quote(k)).append(": ")
                            .append(value(k, v)));
                    b.append('}');
                }
                write(b.append(paths.isEmpty() ? "]" : "\n  ]").toString());
            } else if (!paths.isEmpty()) {
                int[] w = widths(PATH_COLUMNS, PATH_KEYS, paths);
                write("\n");
                line(PATH_COLUMNS, w);
                for (Map<String, String> p : paths) {
                    line(values(p, PATH_KEYS), w);
                }
            }
            paths = null;
        }

        public void socket(Map<String, String> row) {
            paths();
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
            paths();
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
            width = widths(COLUMNS, KEYS, held);
            write("\n");
            line(COLUMNS, width);
            for (Map<String, String> s : held) {
                row(s);
            }
            held.clear();
        }

        private void row(Map<String, String> s) {
            line(values(s, KEYS), width);
        }

        private static int[] widths(String[] columns, String[] keys, List<Map<String, String>> rows) {
            int[] w = new int[columns.length];
            for (int i = 0; i < columns.length; i++) {
                w[i] = columns[i].length();
                for (Map<String, String> s : rows) {
                    w[i] = Math.max(w[i], s.getOrDefault(keys[i], "-").length());
                }
            }
            return w;
        }

        private static String[] values(Map<String, String> s, String[] keys) {
            String[] v = new String[keys.length];
            for (int i = 0; i < keys.length; i++) {
                v[i] = s.getOrDefault(keys[i], "-");
            }
            return v;
        }

        private void line(String[] values, int[] width) {
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
