package mptcp.agent.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import mptcp.agent.config.Build;
import mptcp.agent.config.Config;
import mptcp.agent.demo.Demo;
import mptcp.agent.demo.DualPathDemo;

/** {@code java -jar mptcp-agent.jar <command>}: the operator's command line. Exit codes: 0 ok, 1 failed, 2 bad usage. */
public final class Cli {
    private Cli() {
    }

    public static int run(String[] args) throws Exception {
        PrintStream out = System.out;
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage(out);
            return args.length == 0 ? 2 : 0;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            switch (args[0]) {
                case "--version":
                case "version":
                    out.println("mptcp-agent " + Build.VERSION);
                    return 0;
                case "attach":
                    return rest.contains("--all") ? FleetCommand.run(rest, out) : AttachCommand.run(rest, out);
                case "status":
                    return StatusCommand.run(rest, out);
                case "demo":
                    return demo(rest, out);
                case "doctor":
                    return DoctorCommand.run(rest, out);
                case "enable":
                    return SystemdCommand.enable(rest, out);
                case "disable":
                    return SystemdCommand.disable(rest, out);
                case "demo-peer":
                    return Demo.peer(rest, out);
                default:
                    System.err.println("mptcp-agent: unknown command '" + args[0] + "'; commands: attach, status, doctor, enable, disable, demo, --help, --version");
                    return 2;
            }
        } catch (UsageException e) {
            System.err.println("mptcp-agent: " + e.getMessage());
            return 2;
        } catch (AttachSession.Unanswered e) {
            System.err.println("mptcp-agent: " + e.getMessage());
            return 1;
        }
    }

    private static int demo(List<String> args, PrintStream out) throws Exception {
        int peer = args.indexOf("--peer");
        if (args.contains("--dual-path") && peer >= 0) {
            return DualPathDemo.peer(args.subList(peer + 1, args.size()), out);
        }
        if (args.equals(List.of("--dual-path"))) {
            return DualPathDemo.run(AttachSession.jar(), out, pid -> StatusCommand.run(List.of(String.valueOf(pid)), out));
        }
        if (!args.isEmpty()) {
            throw new UsageException("usage: demo [--dual-path] (--dual-path needs root)");
        }
        return Demo.run(AttachSession.jar(), out);
    }

    private static void usage(PrintStream out) {
        out.println("mptcp-agent " + Build.VERSION + " - puts unmodified JVM applications on Multipath TCP");
        out.println();
        out.println("As an agent:  java -javaagent:mptcp-agent.jar[=key=value,...] ...");
        out.println("              JAVA_TOOL_OPTIONS=-javaagent:/path/mptcp-agent.jar java ...");
        out.println("Commands:     java -jar mptcp-agent.jar attach <pid> [key=value,...]  load into a running JVM (same user, or root), or");
        out.println("                  change the options of the agent active there (enabled=false: off, its MPTCP listeners back to TCP)");
        out.println("              java -jar mptcp-agent.jar attach --all [--watch] [--include REGEX]... [--exclude REGEX]...");
        out.println("                     [--force] [--json] [key=value,...]   every JVM this user (root: any user, containers too)");
        out.println("                     may attach to; REGEX is found in /proc/PID/cmdline (arguments joined by spaces),");
        out.println("                     exclude wins; opted-out JVMs (MPTCP_AGENT_ENABLED=false, enabled=false) only with");
        out.println("                     --force; --watch then attaches to new JVMs until SIGTERM; exit 0 when all are active;");
        out.println("                     --include-file/--exclude-file/--options-file FILE: the same, one per line");
        out.println("              java -jar mptcp-agent.jar status <pid> [--json]        counters, live connections: mptcp / fallback / tcp");
        out.println("              java -jar mptcp-agent.jar doctor [--json] [<pid>]      will this host (or pid's netns) use several paths?");
        out.println("              java -jar mptcp-agent.jar enable <unit> [key=value,...] [--now] [--root DIR]  systemd drop-in");
        out.println("              java -jar mptcp-agent.jar disable <unit> [--root DIR]  removes that drop-in");
        out.println("              java -jar mptcp-agent.jar demo                         two JVMs on loopback, both ends MPTCP");
        out.println("              java -jar mptcp-agent.jar demo --dual-path             (root) two paths in netns, cut one mid-transfer");
        out.println("              java -jar mptcp-agent.jar --version | --help");
        out.println();
        out.println("Options (agent arguments > -Dmptcp.agent.<key> > env MPTCP_AGENT_<KEY>; first value is the default):");
        for (Map.Entry<String, List<String>> e : Config.keys().entrySet()) {
            out.printf("  %-13s %-21s %s%n", e.getKey(), String.join("|", e.getValue()), Config.help(e.getKey()));
        }
    }
}
