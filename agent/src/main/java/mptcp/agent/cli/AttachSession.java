package mptcp.agent.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;

/**
 * The one way the commands talk to a running JVM named by the user: the pid checks (with the errors an operator
 * understands), attach, load this jar with arguments, read its system properties, detach on {@link #close}.
 */
final class AttachSession implements AutoCloseable {
    final String pid;
    private final VirtualMachine vm;

    private AttachSession(String pid, VirtualMachine vm) {
        this.pid = pid;
        this.vm = vm;
    }

    /** Validates {@code pid} as the id of a running JVM this user may attach to. */
    static String checkPid(String pid) {
        if (pid == null || !pid.matches("[1-9][0-9]{0,9}")) {
            throw new UsageException("invalid pid '" + pid + "': expected the process id of a running JVM (a positive number)");
        }
        if (String.valueOf(ProcessHandle.current().pid()).equals(pid)) {
            throw new UsageException("pid " + pid + " is this command itself");
        }
        Path proc = Paths.get("/proc", pid);
        if (!Files.isDirectory(proc)) {
            throw new UsageException("no such process: " + pid);
        }
        try {
            int owner = (Integer) Files.getAttribute(proc, "unix:uid");
            int me = (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
            if (owner != me) {
                throw new UsageException("process " + pid + " belongs to uid " + owner + ", this command runs as uid " + me
                        + "; a JVM only accepts attach from its own user: run this command as that user (e.g. sudo -u '#"
                        + owner + "' java -jar mptcp-agent.jar ...)");
            }
            String maps = new String(Files.readAllBytes(proc.resolve("maps")));
            if (!maps.contains("/libjvm.so")) {
                throw new UsageException("process " + pid + " (" + read(pid, "comm").trim() + ") is not a Java virtual machine");
            }
        } catch (IOException e) {
            throw new UsageException("cannot inspect process " + pid + ": " + e.getMessage());
        }
        return pid;
    }

    /** Checks {@code pid} and attaches to it. */
    static AttachSession open(String pid) {
        checkPid(pid);
        try {
            return new AttachSession(pid, VirtualMachine.attach(pid));
        } catch (AttachNotSupportedException | IOException e) {
            if (read(pid, "cmdline").replace('\0', ' ').contains("-XX:+DisableAttachMechanism")) {
                throw new UsageException("JVM " + pid + " was started with -XX:+DisableAttachMechanism: it accepts no"
                        + " attach; start it with -javaagent:mptcp-agent.jar instead");
            }
            throw new UsageException("cannot attach to JVM " + pid + ": " + e.getMessage()
                    + " (is the attach mechanism disabled, or /tmp not shared with that process?)");
        }
    }

    Properties properties() throws IOException {
        return vm.getSystemProperties();
    }

    /** Loads this jar into the JVM with {@code args} (agent options, or a request to the agent already there). */
    void load(String args) throws Exception {
        vm.loadAgent(jar(), args);
    }

    @Override
    public void close() {
        try {
            vm.detach();
        } catch (IOException | RuntimeException gone) {
            // the JVM is gone: nothing to detach from
        }
    }

    /** Path of the agent jar this command runs from. */
    static String jar() throws Exception {
        Class<?> launcher = Class.forName("mptcp.agent.boot.Launcher", false, ClassLoader.getSystemClassLoader());
        return new File(launcher.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
    }

    private static String read(String pid, String file) {
        try {
            return new String(Files.readAllBytes(Paths.get("/proc", pid, file)));
        } catch (IOException e) {
            return "?";
        }
    }
}
