package mptcp.agent.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
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
 * 1. Otherwise ask the agent there ({@link StatusRequest}) and print its {@link Report}.
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
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        try (AttachSession target = AttachSession.open(rest.get(0))) {
            String active = target.properties().getProperty(Build.ACTIVE_PROPERTY);
            if (active == null) {
                Report r = new Report();
                r.items.put("agent", "not loaded");
                r.items.put("pid", target.pid);
                out.print(Render.render(r, json));
                return 1;
            }
            String nonce = Long.toHexString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
            target.load(StatusRequest.REQUEST + nonce);
            String wire = target.properties().getProperty(StatusRequest.PROPERTY + nonce);
            try {
                target.load(StatusRequest.DONE + nonce);
            } catch (Exception e) {
                // the report stays as a property until the next status; nothing else is affected
            }
            if (wire == null) {
                System.err.println("mptcp-agent: the agent in JVM " + target.pid + " (" + active
                        + ") did not answer the status request (an older agent version?)");
                return 1;
            }
            Report r = Report.parse(wire).headed(target.pid);
            out.print(Render.render(r, json));
            return r.items.containsKey("error") ? 1 : 0;
        } catch (UsageException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("mptcp-agent: status of JVM " + rest.get(0) + " failed: " + e);
            return 1;
        }
    }
}
