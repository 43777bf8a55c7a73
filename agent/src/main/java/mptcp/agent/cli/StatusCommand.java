package mptcp.agent.cli;

import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import mptcp.agent.config.Build;
import mptcp.agent.report.Render;
import mptcp.agent.report.Report;
import mptcp.agent.report.StatusRequest;

/**
 * {@code status <pid> [--json]}: what the agent in a running JVM did and what its connections really are. If the
 * system property {@value Build#ACTIVE_PROPERTY} is missing there, the agent is not loaded: say so, load nothing, exit
 * 1. Otherwise ask the agent there ({@link StatusRequest}) and print its report as it streams in ({@link Render.Stream}:
 * bounded memory whatever the number of connections); an agent of an older build is asked the old way (the whole
 * report through a system property).
 */
final class StatusCommand {
    private StatusCommand() {
    }

    static int run(List<String> args, PrintStream cliOut) {
        boolean json = args.contains("--json");
        List<String> rest = new ArrayList<>(args);
        rest.remove("--json");
        if (rest.size() != 1) {
            throw new UsageException("usage: status <pid> [--json]");
        }
        // UTF-8 whatever the locale: the protocol column contains "mptcp→tcp"
        Writer out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8),
                1 << 16);
        try (AttachSession target = AttachSession.open(rest.get(0))) {
            java.util.Properties properties = target.properties();
            String active = properties.getProperty(Build.ACTIVE_PROPERTY);
            if (active == null) {
                Report r = new Report();
                r.items.put("agent", "not loaded");
                r.items.put("pid", target.pid);
                out.write(Render.render(r, json));
                out.flush();
                return 1;
            }
            Render.Stream s = new Render.Stream(out, json, Render.TABLE_ROWS);
            s.item("agent", "active");
            s.item("pid", target.pid);
            boolean[] error = {false};
            java.util.function.Consumer<String> feed = line -> Report.feed(line, (k, v) -> {
                error[0] |= k.equals("error");
                if (!k.equals("agent") && !k.equals("pid")) {
                    s.item(k, v);
                }
            }, s::path, s::socket);
            boolean complete;
            if (streams(properties.getProperty(Build.REQUESTS_PROPERTY))) {
                complete = target.status(feed);
            } else {
                String wire = olderBuild(target);
                if (wire == null) {
                    System.err.println("mptcp-agent: the agent in JVM " + target.pid + " (" + active
                            + ") did not answer the status request (an older agent version?)");
                    return 1;
                }
                for (String line : wire.split("\n")) {
                    feed.accept(line);
                }
                complete = true;
            }
            s.end();
            out.flush();
            if (!complete) {
                System.err.println("mptcp-agent: the status report of JVM " + target.pid + " ended early (the JVM"
                        + " exited, or its agent gave up writing)");
                return 1;
            }
            return error[0] ? 1 : 0;
        } catch (UsageException | AttachSession.Unanswered e) {
            throw e;
        } catch (Exception e) {
            try {
                out.flush();
            } catch (java.io.IOException ignored) {
                // stdout gone
            }
            System.err.println("mptcp-agent: status of JVM " + rest.get(0) + " failed: " + message(e));
            return 1;
        }
    }

    /**
     * Whether the agent in the JVM streams its report ({@code @status-stream=}): an agent of this build says "status"
     * in {@value Build#REQUESTS_PROPERTY}; an older one does not, and would take that request for options.
     */
    private static boolean streams(String requests) {
        return requests != null && java.util.Arrays.asList(requests.split(" ")).contains("status");
    }

    /** The whole report from an agent of an older build: published as a system property, then removed. */
    private static String olderBuild(AttachSession target) throws Exception {
        String nonce = Long.toHexString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
        target.load(StatusRequest.REQUEST + nonce);
        String wire = target.properties().getProperty(StatusRequest.PROPERTY + nonce);
        try {
            target.load(StatusRequest.DONE + nonce);
        } catch (Exception e) {
            // the report stays as a property until the next status; nothing else is affected
        }
        return wire;
    }

    /** An exception as one line: its message when it has one (the deadline's names what was waited for). */
    static String message(Throwable e) {
        return e.getMessage() != null && !(e instanceof NullPointerException) ? e.getMessage() : e.toString();
    }
}
