package mptcp.agent.cli;

import java.io.PrintStream;
import java.util.List;

import mptcp.agent.config.Build;
import mptcp.agent.config.Config;
import mptcp.agent.os.ProcFs;

/** {@code attach <pid> [options]}: loads this jar as an agent into a running JVM. */
final class AttachCommand {
    private AttachCommand() {
    }

    static int run(List<String> args, PrintStream out) {
        if (args.isEmpty() || args.size() > 2) {
            throw new UsageException("usage: attach <pid> [key=value,...]");
        }
        String options = args.size() == 2 ? args.get(1) : "";
        try {
            Config.parse(options, k -> null, k -> null); // same message as in the target, but here, before attaching
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        String pid = AttachSession.checkPid(args.get(0));
        List<String> listeners = ProcFs.tcpListeners(pid);
        try (AttachSession target = AttachSession.open(pid)) {
            String active = target.properties().getProperty(Build.ACTIVE_PROPERTY);
            if (active != null) {
                out.println("mptcp-agent is already active in JVM " + pid + " (" + active + "); not attached again");
                return 0;
            }
            target.load(options);
            active = target.properties().getProperty(Build.ACTIVE_PROPERTY);
            if (active == null) {
                System.err.println("mptcp-agent: loaded into JVM " + pid + " but it did not activate; its stderr says why");
                return 1;
            }
            out.println("mptcp-agent " + active + " active in JVM " + pid + ": TCP sockets it creates from now on are MPTCP");
            String handedOver = target.properties().getProperty(Build.LISTENERS_PROPERTY);
            if (handedOver != null && !handedOver.isEmpty()) {
                out.println(handedOver); // one line per listener: converted to MPTCP, or kept TCP and why
            } else if (handedOver == null && !listeners.isEmpty()) {
                out.println("listening sockets opened before the attach stay TCP until the application reopens them: "
                        + String.join(", ", listeners));
            }
            return 0;
        } catch (UsageException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("mptcp-agent: attaching to JVM " + pid + " failed: " + e);
            return 1;
        }
    }

    // --- for attach --all (FleetCommand); contract with "rollback", whose version of these replaces this one ---

    /** Checks options once for all JVMs; throws UsageException with the one-line message. */
    static String prepare(String options) {
        try {
            Config.parse(options, k -> null, k -> null);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return options;
    }

    /** What one attach did in one JVM. */
    static final class Outcome {
        /** The agent is loaded and enabled in that JVM afterwards. */
        final boolean active;
        /** This call's options took effect. */
        final boolean applied;
        /** First line: what happened in that JVM; then one per listener. */
        final List<String> lines;

        Outcome(boolean active, boolean applied, List<String> lines) {
            this.active = active;
            this.applied = applied;
            this.lines = lines;
        }
    }

    /** Attaches to one JVM with prepared options; never prints. */
    static Outcome attachOne(AttachSession target, String prepared) throws Exception {
        String active = target.properties().getProperty(Build.ACTIVE_PROPERTY);
        if (active != null) {
            return new Outcome(true, prepared.isEmpty(), List.of("already active (" + active + "); not attached again"));
        }
        target.load(prepared);
        java.util.Properties after = target.properties();
        active = after.getProperty(Build.ACTIVE_PROPERTY);
        if (active == null) {
            return new Outcome(false, false, List.of("loaded but did not activate; its stderr says why"));
        }
        List<String> lines = new java.util.ArrayList<>();
        lines.add("agent " + active + " active: TCP sockets it creates from now on are MPTCP");
        String handedOver = after.getProperty(Build.LISTENERS_PROPERTY);
        if (handedOver != null && !handedOver.isEmpty()) {
            lines.addAll(List.of(handedOver.split("\n")));
        }
        return new Outcome(true, true, lines);
    }
}
