package mptcp.agent.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The target side of {@code attach <pid> [options]}, first attach and run-time change alike: the CLI loads the agent
 * jar into the JVM with the argument {@code @attach=NONCE/UID/I/N:PART} once per part (options longer than one
 * argument of the attach protocol carries, 1024 bytes with the jar's path, come in N parts, each its own load); the
 * agent there runs the request once all parts are in ({@link Handler}) and publishes its {@link Answer} as the system
 * property {@code mptcp-agent.attach.NONCE}, which the CLI reads through the attach API. The answer is removed by the
 * first request that comes at least {@link #EXPIRY_MS} later (or by {@code @attach-done=NONCE}): the command does not
 * load the jar once more to remove it, because on JDK 21+ every load prints four WARNING lines on the application's
 * stderr (unless it runs with -XX:+EnableDynamicAgentLoading). UID is the uid the command runs as (recorded for
 * status: who changed the configuration; the JVM itself only accepts an attach from its own uid or root). No port,
 * thread or file is used.
 */
public final class AttachRequest {
    public static final String REQUEST = "@attach=";
    public static final String DONE = "@attach-done=";
    public static final String PROPERTY = "mptcp-agent.attach.";
    /**
     * Requests whose parts are still coming, by nonce: at most this many, each dropped after {@link #EXPIRY_MS}; and
     * answers published, by nonce (when), removed after as long.
     */
    private static final int MAX_PENDING = 8;
    static final long EXPIRY_MS = 60_000;
    private static final Map<String, Pending> PENDING = new LinkedHashMap<>();
    private static final Map<String, Long> ANSWERED = new LinkedHashMap<>();

    private AttachRequest() {
    }

    /** What the agent does with a complete request: the options given and the uid of the command (-1: unknown). */
    public interface Handler {
        Answer handle(String options, int uid);
    }

    /** The agent's answer: said by the agent in that JVM itself, printed by the CLI as it is. */
    public static final class Answer {
        /** The agent is installed and switched on in that JVM afterwards. */
        public final boolean active;
        /** The options of this request took effect (false: refused, or not installed; the first line says why). */
        public final boolean applied;
        /** First what happened in that JVM, then one line per listener the request affected. */
        public final List<String> lines;

        public Answer(boolean active, boolean applied, List<String> lines) {
            this.active = active;
            this.applied = applied;
            List<String> clean = new ArrayList<>();
            for (String line : lines) {
                clean.add(line.replace('\n', ' ').replace('\r', ' ')); // one line each, whatever an exception said
            }
            this.lines = Collections.unmodifiableList(clean);
        }

        /** The wire form: {@code active=B applied=B}, then the lines. */
        public String wire() {
            StringBuilder b = new StringBuilder("active=" + active + " applied=" + applied);
            lines.forEach(l -> b.append('\n').append(l));
            return b.toString();
        }

        /** Parses the wire form; null when it is not one. */
        public static Answer parse(String wire) {
            if (wire == null) {
                return null;
            }
            String[] l = wire.split("\n", -1);
            String[] head = l[0].split(" ");
            if (head.length != 2 || !head[0].startsWith("active=") || !head[1].startsWith("applied=")) {
                return null;
            }
            return new Answer(head[0].equals("active=true"), head[1].equals("applied=true"),
                    java.util.Arrays.asList(l).subList(1, l.length));
        }
    }

    /** True when {@code args} (agentmain arguments) are an attach request rather than plain agent options. */
    public static boolean is(String args) {
        return args != null && (args.startsWith(REQUEST) || args.startsWith(DONE));
    }

    /** The argument of part {@code part} (1-based) of {@code parts} carrying {@code chunk} of the options. */
    public static String request(String nonce, int uid, int part, int parts, String chunk) {
        return REQUEST + nonce + "/" + uid + "/" + part + "/" + parts + ":" + chunk;
    }

    /** One load of the jar with {@code args} ({@link #is} true): a part of a request, or the CLI's clean-up. */
    public static void handle(String args, Handler handler) {
        if (args.startsWith(DONE)) {
            String nonce = nonce(args.substring(DONE.length()));
            synchronized (PENDING) {
                ANSWERED.remove(nonce);
            }
            System.clearProperty(PROPERTY + nonce);
            return;
        }
        int colon = args.indexOf(':');
        String[] h = colon < 0 ? new String[0] : args.substring(REQUEST.length(), colon).split("/");
        if (h.length != 4 || !h[1].matches("-?[0-9]{1,10}") || !h[2].matches("[0-9]{1,4}") || !h[3].matches("[0-9]{1,4}")) {
            throw new IllegalArgumentException("bad attach request");
        }
        String nonce = nonce(h[0]);
        int uid = Integer.parseInt(h[1]);
        int part = Integer.parseInt(h[2]);
        int parts = Integer.parseInt(h[3]);
        if (part < 1 || part > parts) {
            throw new IllegalArgumentException("bad attach request part");
        }
        String options;
        synchronized (PENDING) {
            long now = System.currentTimeMillis();
            PENDING.values().removeIf(p -> now - p.since > EXPIRY_MS);
            Pending p = PENDING.get(nonce);
            if (p == null) {
                if (PENDING.size() >= MAX_PENDING) {
                    PENDING.remove(PENDING.keySet().iterator().next());
                }
                p = new Pending(parts, now);
                PENDING.put(nonce, p);
            }
            if (p.parts.length != parts) {
                PENDING.remove(nonce);
                throw new IllegalArgumentException("bad attach request part count");
            }
            p.parts[part - 1] = args.substring(colon + 1);
            for (String s : p.parts) {
                if (s == null) {
                    return; // more to come
                }
            }
            PENDING.remove(nonce);
            options = String.join("", p.parts);
        }
        synchronized (PENDING) { // earlier answers, read by their commands long ago
            long now = System.currentTimeMillis();
            ANSWERED.entrySet().removeIf(e -> {
                boolean old = now - e.getValue() > EXPIRY_MS;
                if (old) {
                    System.clearProperty(PROPERTY + e.getKey());
                }
                return old;
            });
            ANSWERED.put(nonce, now);
        }
        Answer answer;
        try {
            answer = handler.handle(options, uid);
        } catch (Throwable t) {
            answer = new Answer(mptcp.agent.config.Build.enabled(System.getProperty(mptcp.agent.config.Build.ACTIVE_PROPERTY)),
                    false, List.of("the agent failed to handle the attach request (" + t + "); check its configuration with status"));
        }
        System.setProperty(PROPERTY + nonce, answer.wire());
    }

    private static String nonce(String s) {
        if (!s.matches("[0-9a-f]{1,32}")) {
            throw new IllegalArgumentException("bad attach nonce");
        }
        return s;
    }

    private static final class Pending {
        final String[] parts;
        final long since;

        Pending(int parts, long since) {
            this.parts = new String[parts];
            this.since = since;
        }
    }
}
