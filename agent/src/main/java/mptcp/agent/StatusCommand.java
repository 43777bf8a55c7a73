package mptcp.agent;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.sun.tools.attach.VirtualMachine;

/**
 * {@code status <pid> [--json]}: what the agent in a running JVM did and what its connections really are.
 *
 * <p>How it talks to the target: attach (same checks and errors as {@code attach}); if the system property
 * {@value Agent#ACTIVE_PROPERTY} is missing there, the agent is not loaded: say so, load nothing, exit 1. Otherwise
 * load this jar again with the argument {@code @status=<nonce>}: the agent already running there (same class loader)
 * computes its report ({@link StatusReport}) and publishes it as the system property
 * {@code mptcp-agent.status.<nonce>}, which this command reads through the attach API and then has removed
 * ({@code @status-done=<nonce>}). No management agent, port or thread is started in the target.
 */
final class StatusCommand {
    static final String REQUEST = "@status=";
    static final String DONE = "@status-done=";
    static final String PROPERTY = "mptcp-agent.status.";

    private StatusCommand() {
    }

    /** The parsed report: key: value items and the socket rows. */
    static final class Report {
        final Map<String, String> items = new LinkedHashMap<>();
        final List<Map<String, String>> sockets = new ArrayList<>();
    }

    // ---- in the target JVM ----

    /** True when {@code args} (agentmain arguments) are a status command rather than agent options. */
    static boolean isCommand(String args) {
        return args != null && (args.startsWith(REQUEST) || args.startsWith(DONE));
    }

    static void handle(String args) {
        if (args.startsWith(DONE)) {
            System.clearProperty(PROPERTY + nonce(args.substring(DONE.length())));
            return;
        }
        String nonce = nonce(args.substring(REQUEST.length()));
        // at most one report is ever left behind (if a status command died before clearing its own)
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(PROPERTY)) {
                System.clearProperty(name);
            }
        }
        String report;
        try {
            report = StatusReport.wire();
        } catch (Throwable t) {
            report = "error: " + t + "\n";
        }
        System.setProperty(PROPERTY + nonce, report);
    }

    private static String nonce(String s) {
        if (!s.matches("[0-9a-f]{1,32}")) {
            throw new IllegalArgumentException("bad status nonce");
        }
        return s;
    }

    // ---- the command line ----

    static int run(List<String> args, PrintStream cliOut) {
        boolean json = args.contains("--json");
        List<String> rest = new ArrayList<>(args);
        rest.remove("--json");
        if (rest.size() != 1) {
            throw new Cli.UsageException("usage: status <pid> [--json]");
        }
        // UTF-8 whatever the locale: the protocol column contains "mptcp→tcp"
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        Target target = Target.of(rest.get(0));
        VirtualMachine vm = target.attach();
        try {
            Properties props = vm.getSystemProperties();
            String active = props.getProperty(Agent.ACTIVE_PROPERTY);
            if (active == null) {
                Report r = new Report();
                r.items.put("agent", "not loaded");
                r.items.put("pid", target.pid);
                out.print(render(r, json));
                return 1;
            }
            String nonce = Long.toHexString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
            String jar = Attach.jar();
            vm.loadAgent(jar, REQUEST + nonce);
            String wire = vm.getSystemProperties().getProperty(PROPERTY + nonce);
            try {
                vm.loadAgent(jar, DONE + nonce);
            } catch (Exception e) {
                // the report stays as a property until the next status; nothing else is affected
            }
            if (wire == null) {
                System.err.println("mptcp-agent: the agent in JVM " + target.pid + " (" + active
                        + ") did not answer the status request (an older agent version?)");
                return 1;
            }
            Report r = parse(wire);
            Map<String, String> head = new LinkedHashMap<>();
            head.put("agent", "active");
            head.put("pid", target.pid);
            head.putAll(r.items);
            r.items.clear();
            r.items.putAll(head);
            out.print(render(r, json));
            return r.items.containsKey("error") ? 1 : 0;
        } catch (Exception e) {
            System.err.println("mptcp-agent: status of JVM " + target.pid + " failed: " + e);
            return 1;
        } finally {
            try {
                vm.detach();
            } catch (Exception gone) {
                // gone
            }
        }
    }

    static Report parse(String wire) {
        Report r = new Report();
        for (String line : wire.split("\n")) {
            if (line.startsWith("socket:")) {
                Map<String, String> row = new LinkedHashMap<>();
                for (String kv : line.substring("socket:".length()).trim().split(" ")) {
                    int eq = kv.indexOf('=');
                    if (eq > 0) {
                        row.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                }
                r.sockets.add(row);
            } else {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    r.items.put(line.substring(0, colon), line.substring(colon + 2));
                }
            }
        }
        return r;
    }

    static String render(Report r, boolean json) {
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
