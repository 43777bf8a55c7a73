package mptcp.agent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import mptcp.agent.cli.attach.Copies;
import mptcp.agent.cli.attach.Selection;
import mptcp.agent.cli.attach.Target;
import mptcp.agent.config.Build;
import mptcp.agent.report.Render;

/**
 * {@code attach --all [--watch] [--include REGEX]... [--exclude REGEX]... [--force] [--json] [key=value,...]}: the
 * agent into every JVM of the host this command may attach to ({@link Selection}), a few at a time, each with its own
 * deadline ({@link mptcp.agent.cli.attach.Deadline}), so that a JVM that exits or never answers costs only its own line; one line per JVM and per listener,
 * exit 0 only when every selected JVM has the agent active (with {@code enabled=false}: switched off, the fleet-wide
 * off switch). {@code --watch} then keeps looking for new JVMs (one read
 * of /proc's pid list a second; a new process is looked at every 100 ms for its first seconds, as a launcher may exec
 * a JVM and a JVM is attachable only once its SIGQUIT handler is installed; older ones are checked for an exec now and
 * then by their name) and attaches to each as soon as it becomes attachable — never to
 * one that has the agent already ({@value Build#ACTIVE_PROPERTY} set, also after a roll-back there); SIGTERM or
 * SIGINT stop it, removing the jar copies it made in containers that nothing uses any more.
 */
final class FleetCommand {
    static final String USAGE = "usage: attach --all [--watch] [--include REGEX]... [--exclude REGEX]... [--force] [--json]"
            + " [key=value,...] (or --include-file FILE, --exclude-file FILE, --options-file FILE: one per line)";
    /** JVMs attached to at the same time. */
    private static final int PARALLEL = 4;
    /** How often --watch looks again at the processes it watches closely. */
    static final long STEP_MS = 100;
    /** How often --watch reads /proc's pid list (one readdir). */
    static final long TICK_MS = 1000;
    /**
     * A new process is watched closely (each step) while it is this young: time for a launcher or shell to exec a JVM
     * and for that JVM to install its SIGQUIT handler; a JVM not attachable after YOUNG_MS is given up.
     */
    private static final long EXEC_WINDOW_MS = 3000;
    private static final long YOUNG_MS = 30_000;
    /** How often the settled processes younger than YOUNG_MS, and all of them, are checked for an exec (comm changed). */
    private static final long RECHECK_YOUNG_MS = 1000;
    private static final long RECHECK_ALL_MS = 30_000;
    /** How often the jar copies nothing holds open any more are removed. */
    private static final long CLEAN_MS = 10_000;

    private final Selection selection;
    private final String options;
    private final boolean json;
    private final PrintStream out;
    private final Copies copies = new Copies();
    /** The processes the first pass looked at and settled. */
    private final Map<Long, Seen> seen = new HashMap<>();

    /** A process looked at and done with: its name (null for a JVM: it is never looked at again) and start time. */
    private static final class Seen {
        final String comm;
        final long startTime;

        Seen(String comm, long startTime) {
            this.comm = comm;
            this.startTime = startTime;
        }
    }

    private FleetCommand(Selection selection, String options, boolean json, PrintStream out) {
        this.selection = selection;
        this.options = options;
        this.json = json;
        this.out = out;
    }

    static int run(List<String> args, PrintStream out) throws Exception {
        boolean watch = false;
        boolean force = false;
        boolean json = false;
        List<String> include = new ArrayList<>();
        List<String> exclude = new ArrayList<>();
        String options = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--all")) {
                continue;
            } else if (a.equals("--watch")) {
                watch = true;
            } else if (a.equals("--force")) {
                force = true;
            } else if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--include") || a.equals("--exclude")) {
                if (i + 1 >= args.size()) {
                    throw new UsageException(a + " needs a regular expression; " + USAGE);
                }
                (a.equals("--include") ? include : exclude).add(args.get(++i));
            } else if (a.equals("--include-file") || a.equals("--exclude-file") || a.equals("--options-file")) {
                if (i + 1 >= args.size()) {
                    throw new UsageException(a + " needs a file; " + USAGE);
                }
                List<String> lines = lines(a, args.get(++i));
                if (a.equals("--options-file")) {
                    if (options != null) {
                        throw new UsageException("options given twice ('" + options + "' and " + a + "); " + USAGE);
                    }
                    options = String.join(",", lines);
                } else {
                    (a.equals("--include-file") ? include : exclude).addAll(lines);
                }
            } else if (a.startsWith("--include=")) {
                include.add(a.substring(10));
            } else if (a.startsWith("--exclude=")) {
                exclude.add(a.substring(10));
            } else if (a.startsWith("-")) {
                throw new UsageException("unknown option '" + a + "'; " + USAGE);
            } else if (options == null) {
                options = a;
            } else {
                throw new UsageException("one list of options only (key=value,...), got '" + options + "' and '" + a
                        + "'; " + USAGE);
            }
        }
        Selection selection;
        try {
            selection = new Selection(include, exclude, force);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        String prepared = AttachCommand.prepare(options == null ? "" : options);
        FleetCommand fleet = new FleetCommand(selection, prepared, json, out);
        int code = fleet.all();
        if (!watch) {
            fleet.cleanUp();
            return code;
        }
        return fleet.watch();
    }

    /**
     * The lines of FILE without blanks and {@code #} comments (a Kubernetes ConfigMap mounted as files: see
     * deploy/kubernetes); an empty or missing file gives none. At most 64 KiB, a regular file.
     */
    private static List<String> lines(String option, String file) {
        java.nio.file.Path p = java.nio.file.Path.of(file);
        if (!java.nio.file.Files.exists(p)) {
            return List.of();
        }
        if (!java.nio.file.Files.isRegularFile(p)) {
            throw new UsageException(option + " " + file + ": not a regular file");
        }
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(p)) {
            byte[] b = in.readNBytes(64 * 1024 + 1);
            if (b.length > 64 * 1024) {
                throw new UsageException(option + " " + file + ": larger than 64 KiB");
            }
            List<String> out = new ArrayList<>();
            for (String l : new String(b, java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                String t = l.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    out.add(t);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UsageException(option + " " + file + ": " + e.getMessage());
        }
    }

    /** One JVM's result. */
    private static final class Result {
        final Target target;
        final String state; // active, failed, exited, skipped, excluded, left
        final List<String> lines;

        Result(Target target, String state, List<String> lines) {
            this.target = target;
            this.state = state;
            this.lines = lines;
        }
    }

    private int all() throws InterruptedException {
        Map<Long, Result> results = new TreeMap<>();
        Map<Long, Future<Result>> pending = new TreeMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, daemon());
        try {
            for (long pid : Target.pids()) {
                Target t;
                try {
                    t = Target.of(pid);
                } catch (IOException | RuntimeException gone) {
                    continue;
                }
                Selection.Decision d = selection.decide(t);
                boolean jvm = d.verdict != Selection.Verdict.NONE && d.verdict != Selection.Verdict.OTHER;
                if (jvm || d.verdict == Selection.Verdict.OTHER || !starting(t)) {
                    seen.put(pid, new Seen(jvm ? null : t.comm(), t.startTime));
                } // else: a process that may still exec a JVM: --watch looks at it as new
                switch (d.verdict) {
                    case OTHER:
                    case NONE:
                        break;
                    case EXCLUDED:
                        results.put(pid, new Result(t, "excluded", List.of("excluded: " + d.why)));
                        break;
                    case OPTED_OUT:
                        results.put(pid, new Result(t, "skipped", List.of("skipped: " + d.why)));
                        break;
                    default: // SELECTED, NOT_YET: attaching says why one is not attachable
                        pending.put(pid, pool.submit(() -> attach(t, false)));
                }
            }
            for (Map.Entry<Long, Future<Result>> e : pending.entrySet()) {
                try {
                    results.put(e.getKey(), e.getValue().get());
                } catch (java.util.concurrent.ExecutionException x) {
                    throw new IllegalStateException(x.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        int selected = 0;
        int done = 0;
        String goal = switchesOff() ? "off" : "active";
        Map<String, Integer> other = new TreeMap<>();
        if (json) {
            out.println("[");
        }
        int n = 0;
        for (Result r : results.values()) {
            print(r, n++ == 0);
            if (!r.state.equals("excluded") && !r.state.equals("skipped")) {
                selected++;
                if (r.state.equals(goal)) {
                    done++;
                }
            }
            if (!r.state.equals(goal)) {
                other.merge(r.state, 1, Integer::sum);
            }
        }
        if (json) {
            out.println("\n]");
        } else {
            StringBuilder b = new StringBuilder("Result: " + done + " of " + selected + " selected JVMs "
                    + (goal.equals("off") ? "have the agent switched off (enabled=false)" : "have the agent active"));
            other.forEach((k, v) -> b.append("; ").append(v).append(' ').append(k));
            out.println(b);
        }
        out.flush();
        return done == selected ? 0 : 1;
    }

    /** Attaches to one JVM (in a pool thread); never throws. */
    private Result attach(Target t, boolean watching) {
        try (AttachSession s = AttachSession.open(t)) {
            if (watching && s.properties().getProperty(Build.ACTIVE_PROPERTY) != null) {
                return new Result(t, "left", List.of("left as it is: the agent is loaded already ("
                        + s.properties().getProperty(Build.ACTIVE_PROPERTY) + ")"));
            }
            AttachCommand.Outcome o = AttachCommand.attachOne(s, options);
            try {
                copies.add(t, s.jarInTarget());
            } catch (Exception ignored) {
                // no copy made
            }
            List<String> lines = new ArrayList<>(o.lines);
            if (!lines.isEmpty()) { // the JVM is named on this command's line already (the target says its own pid)
                lines.set(0, lines.get(0).replaceFirst("^mptcp-agent in JVM [0-9]+: ", ""));
            }
            if (lines.isEmpty()) {
                lines.add(o.active ? "active" : "not active");
            }
            String state = o.applied && o.active ? "active" : o.applied && switchesOff() ? "off" : "failed";
            return new Result(t, state, lines);
        } catch (Exception e) {
            if (e instanceof NoSuchFileException || t.goneWithin(500)) {
                return new Result(t, "exited", List.of("exited during the attach"));
            }
            return new Result(t, "failed", List.of("failed: " + StatusCommand.message(e)));
        }
    }

    /** The options switch the agent off (enabled=false): a JVM left with the agent off is then what was asked. */
    private boolean switchesOff() {
        return ("," + options + ",").contains(",enabled=false,");
    }

    private void print(Result r, boolean first) {
        Target t = r.target;
        if (json) {
            StringBuilder b = new StringBuilder(first ? "  {" : ",\n  {");
            b.append("\"pid\": ").append(t.pid).append(", \"nspid\": ").append(t.nspid).append(", \"uid\": ").append(t.euid)
                    .append(", \"main\": ").append(Render.quote(t.main())).append(", \"result\": ").append(Render.quote(r.state))
                    .append(", \"lines\": [");
            for (int i = 0; i < r.lines.size(); i++) {
                b.append(i > 0 ? ", " : "").append(Render.quote(r.lines.get(i)));
            }
            out.print(b.append("]}"));
            return;
        }
        out.println("JVM " + t.pid + (t.nspid != t.pid ? " (pid " + t.nspid + " in its namespace)" : "") + " uid "
                + t.euid + " " + t.main() + ": " + r.lines.get(0));
        for (String l : r.lines.subList(1, r.lines.size())) {
            out.println("  " + l);
        }
    }

    /** --watch: new JVMs as they become attachable, until SIGTERM/SIGINT. */
    private int watch() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        for (String signal : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.set(true)); // seen within a step
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM keeps its own handling of that signal (e.g. -Xrs): a shutdown then skips the clean-up
            }
        }
        long bootMs = System.currentTimeMillis() - uptimeMs();
        // every process looked at and done with: those the first pass saw; any other, also one started meanwhile, is new
        Map<Long, Seen> settled = new HashMap<>(seen);
        Map<Long, Long> fast = new HashMap<>(); // pid -> when it began to be looked at every step
        Map<Long, Future<Result>> inFlight = new HashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, daemon());
        if (!json) {
            out.println("Watching for new JVMs (SIGTERM or Ctrl-C stops)");
            out.flush();
        }
        try {
            long perTick = TICK_MS / STEP_MS;
            for (long step = 0; !stop.get(); ) {
                // nothing young to look at: sleep to the next read of the pid list (no wake-up every step)
                long steps = fast.isEmpty() && inFlight.isEmpty() ? perTick - step % perTick : 1;
                Thread.sleep(steps * STEP_MS);
                step += steps;
                if (stop.get()) {
                    break;
                }
                long now = System.currentTimeMillis();
                if (step % (TICK_MS / STEP_MS) == 0) { // the pid list: who is new, who is gone
                    java.util.Set<Long> live = new java.util.HashSet<>(Target.pids());
                    settled.keySet().retainAll(live);
                    fast.keySet().retainAll(live);
                    for (long pid : live) {
                        if (!settled.containsKey(pid) && !fast.containsKey(pid) && !inFlight.containsKey(pid)) {
                            fast.put(pid, now);
                        }
                    }
                }
                if (step % (RECHECK_YOUNG_MS / STEP_MS) == 0) { // an exec: the name changes (only a read of comm)
                    boolean all = step % (RECHECK_ALL_MS / STEP_MS) == 0;
                    for (Map.Entry<Long, Seen> e : new ArrayList<>(settled.entrySet())) {
                        Seen was = e.getValue();
                        if (was.comm != null && (all || now - (bootMs + was.startTime * 10) < YOUNG_MS)
                                && !was.comm.equals(Target.comm(e.getKey()))) {
                            settled.remove(e.getKey());
                            fast.put(e.getKey(), now);
                        }
                    }
                }
                for (Map.Entry<Long, Long> e : new ArrayList<>(fast.entrySet())) {
                    long pid = e.getKey();
                    Target t = tryOf(pid);
                    if (t == null) {
                        fast.remove(pid);
                        continue;
                    }
                    Selection.Decision d = selection.decide(t);
                    switch (d.verdict) {
                        case SELECTED:
                            fast.remove(pid);
                            inFlight.put(pid, pool.submit(() -> attach(t, true)));
                            break;
                        case OTHER:
                            fast.remove(pid);
                            settled.put(pid, new Seen(t.comm(), t.startTime));
                            break;
                        case EXCLUDED:
                        case OPTED_OUT:
                            fast.remove(pid);
                            settled.put(pid, new Seen(null, t.startTime));
                            report(new Result(t, d.verdict == Selection.Verdict.EXCLUDED ? "excluded" : "skipped",
                                    List.of((d.verdict == Selection.Verdict.EXCLUDED ? "excluded: " : "skipped: ") + d.why)));
                            break;
                        case NOT_YET:
                            if (now - e.getValue() > YOUNG_MS) {
                                fast.remove(pid);
                                settled.put(pid, new Seen(null, t.startTime));
                                report(new Result(t, "failed", List.of("failed: not attachable " + YOUNG_MS / 1000
                                        + " s after it was seen: " + d.why + " (-Xrs?)")));
                            }
                            break;
                        default: // not a JVM: a process is looked at every step while it may still exec one
                            if (ageMs(t, bootMs, now) > EXEC_WINDOW_MS) {
                                fast.remove(pid);
                                settled.put(pid, new Seen(t.comm(), t.startTime));
                            }
                    }
                }
                for (Map.Entry<Long, Future<Result>> e : new ArrayList<>(inFlight.entrySet())) {
                    if (e.getValue().isDone()) {
                        inFlight.remove(e.getKey());
                        Result r = e.getValue().get();
                        settled.put(e.getKey(), new Seen(null, r.target.startTime));
                        report(r);
                    }
                }
                if (step % (CLEAN_MS / STEP_MS) == 0 && copies.any() && inFlight.isEmpty()) {
                    for (String l : copies.removeUnused()) {
                        reportLine(l);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(AttachSession.LOAD_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        cleanUp();
        if (!json) {
            out.println("Stopped watching");
        }
        out.flush();
        return 0;
    }

    /** A process young enough that it may still exec a JVM, or a Java launcher that has not loaded its JVM yet. */
    private static boolean starting(Target t) {
        try {
            return ageMs(t, System.currentTimeMillis() - uptimeMs(), System.currentTimeMillis()) < EXEC_WINDOW_MS
                    || t.isStartingJvm();
        } catch (IOException e) {
            return false;
        }
    }

    private static long ageMs(Target t, long bootMs, long now) {
        return now - (bootMs + t.startTime * 10); // USER_HZ = 100 on Linux
    }

    private static Target tryOf(long pid) {
        try {
            return Target.of(pid);
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    private void report(Result r) {
        if (json) {
            print(r, true);
            out.println();
        } else {
            print(r, false);
        }
        out.flush();
    }

    private void reportLine(String line) {
        if (json) {
            out.println("{\"event\": " + Render.quote(line) + "}");
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Removes the jar copies made in containers that no process holds open any more. */
    private void cleanUp() {
        for (String l : copies.removeUnused()) {
            if (!json) {
                out.println(l);
            }
        }
        out.flush();
    }

    private static long uptimeMs() {
        try {
            String s = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/uptime")),
                    java.nio.charset.StandardCharsets.US_ASCII);
            return (long) (Double.parseDouble(s.split(" ")[0]) * 1000);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static java.util.concurrent.ThreadFactory daemon() {
        return r -> {
            Thread t = new Thread(r, "mptcp-agent-attach");
            t.setDaemon(true);
            return t;
        };
    }
}
