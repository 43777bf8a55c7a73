package mptcp.agent;

import java.io.File;
import java.io.PrintStream;
import java.util.List;

import com.sun.tools.attach.VirtualMachine;

/** {@code attach <pid> [options]}: loads this jar as an agent into a running JVM. */
final class Attach {
    private Attach() {
    }

    static int run(List<String> args, PrintStream out) {
        if (args.isEmpty() || args.size() > 2) {
            throw new Cli.UsageException("usage: attach <pid> [key=value,...]");
        }
        String options = args.size() == 2 ? args.get(1) : "";
        try {
            Config.parse(options, k -> null, k -> null); // same message as in the target, but here, before attaching
        } catch (IllegalArgumentException e) {
            throw new Cli.UsageException(e.getMessage());
        }
        Target target = Target.of(args.get(0));
        List<String> listeners = target.tcpListeners();
        VirtualMachine vm = target.attach();
        try {
            String active = vm.getSystemProperties().getProperty(Agent.ACTIVE_PROPERTY);
            if (active != null) {
                out.println("mptcp-agent is already active in JVM " + target.pid + " (" + active + "); not attached again");
                return 0;
            }
            vm.loadAgent(jar(), options);
            active = vm.getSystemProperties().getProperty(Agent.ACTIVE_PROPERTY);
            if (active == null) {
                System.err.println("mptcp-agent: loaded into JVM " + target.pid + " but it did not activate; its stderr says why");
                return 1;
            }
            out.println("mptcp-agent " + active + " active in JVM " + target.pid + ": TCP sockets it creates from now on are MPTCP");
            String converted = vm.getSystemProperties().getProperty(mptcp.agent.listeners.Listeners.RESULT_PROPERTY);
            if (converted != null && !converted.isEmpty()) {
                out.println(converted);
            } else if (converted == null && !listeners.isEmpty()) {
                out.println("listening sockets opened before the attach stay TCP until the application reopens them: "
                        + String.join(", ", listeners));
            }
            return 0;
        } catch (Exception e) {
            System.err.println("mptcp-agent: attaching to JVM " + target.pid + " failed: " + e);
            return 1;
        } finally {
            try {
                vm.detach();
            } catch (Exception ignored) {
                // already gone
            }
        }
    }

    /** Path of the agent jar this command runs from. */
    static String jar() throws Exception {
        Class<?> launcher = Class.forName("mptcp.agent.boot.Launcher", false, ClassLoader.getSystemClassLoader());
        return new File(launcher.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
    }
}
