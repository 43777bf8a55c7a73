package mptcp.agent.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.function.Consumer;

import mptcp.agent.cli.attach.Deadline;
import mptcp.agent.cli.attach.HotSpot;
import mptcp.agent.cli.attach.InTarget;
import mptcp.agent.cli.attach.StatusChannel;
import mptcp.agent.cli.attach.Target;
import mptcp.agent.config.Build;
import mptcp.agent.report.StatusRequest;

/**
 * The one way the commands talk to a running JVM: the pid checks (with the errors an operator understands), attach
 * through HotSpot's own protocol ({@link HotSpot}: no {@code jdk.attach} needed, other users' JVMs as root, JVMs in
 * containers through their namespaced pid and their own /tmp), the agent jar made visible to the target
 * ({@link InTarget#jar}), its system properties, the status stream, and a deadline on every step: a stopped or hung
 * JVM gives an exception naming what was waited for, never a hang.
 */
final class AttachSession implements AutoCloseable {
    /** How long a JVM may take to start its attach listener and to answer one request. */
    static final long ANSWER_MS = 10_000;
    /** How long the agent's agentmain may run (it converts the JVM's listeners before it returns). */
    static final long LOAD_MS = 30_000;

    final String pid;
    private final Target target;
    private final InTarget files;
    private final HotSpot vm;
    private String jarInTarget;

    private AttachSession(Target target, InTarget files, HotSpot vm) {
        this.pid = Long.toString(target.pid);
        this.target = target;
        this.files = files;
        this.vm = vm;
    }

    /** Validates {@code pid} as the id of a running JVM this user may attach to. */
    static String checkPid(String pid) {
        target(pid);
        return pid;
    }

    /** The process named by {@code pid} once checked: a JVM, of this user or any when this command runs as root. */
    static Target target(String pid) {
        if (pid == null || !pid.matches("[1-9][0-9]{0,9}")) {
            throw new UsageException("invalid pid '" + pid + "': expected the process id of a running JVM (a positive number)");
        }
        if (String.valueOf(ProcessHandle.current().pid()).equals(pid)) {
            throw new UsageException("pid " + pid + " is this command itself");
        }
        Target t;
        try {
            t = Target.of(Long.parseLong(pid));
        } catch (NoSuchFileException e) {
            throw new UsageException("no such process: " + pid);
        } catch (IOException | RuntimeException e) {
            throw new UsageException("cannot inspect process " + pid + ": " + e.getMessage());
        }
        int me = Target.ownEuid();
        if (me != 0 && t.euid != me) {
            throw new UsageException("process " + pid + " belongs to uid " + t.euid + ", this command runs as uid " + me
                    + "; a JVM only accepts attach from its own user or root: run this command as that user (e.g."
                    + " sudo -u '#" + t.euid + "' java -jar mptcp-agent.jar ...) or as root");
        }
        try {
            if (!t.isJvm()) {
                throw new UsageException("process " + pid + " (" + t.comm() + ") is not a Java virtual machine");
            }
        } catch (AccessDeniedException e) {
            throw new UsageException(e.getMessage());
        } catch (NoSuchFileException e) {
            throw new UsageException("no such process: " + pid);
        } catch (IOException e) {
            throw new UsageException("cannot inspect process " + pid + ": " + e.getMessage());
        }
        return t;
    }

    /** Checks {@code pid} and attaches to it. */
    static AttachSession open(String pid) {
        Target t = target(pid);
        try {
            return open(t);
        } catch (NoSuchFileException e) {
            throw new UsageException("no such process: " + pid + " (it exited)");
        } catch (Deadline.Passed e) {
            throw new Unanswered(e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Attaches to {@code t} (checked by the caller), within {@link #ANSWER_MS}. */
    static AttachSession open(Target t) throws IOException {
        if (t.commandLine().contains("-XX:+DisableAttachMechanism")) {
            throw new IOException("JVM " + t.pid + " was started with -XX:+DisableAttachMechanism: it accepts no"
                    + " attach; start it with -javaagent:mptcp-agent.jar instead");
        }
        InTarget files = InTarget.open(t);
        try {
            return new AttachSession(t, files, HotSpot.connect(t, files, Deadline.in(ANSWER_MS)));
        } catch (IOException | RuntimeException e) {
            files.close();
            throw e;
        }
    }

    /** The process attached to. */
    Target target() {
        return target;
    }

    /** The target's system properties. */
    Properties properties() throws IOException {
        return vm.properties(Deadline.in(ANSWER_MS));
    }

    /** Loads this jar into the JVM with {@code args} (agent options, or a request to the agent already there). */
    void load(String args) throws Exception {
        String jar = jarInTarget();
        vm.loadAgent(args == null || args.isEmpty() ? jar : jar + "=" + args, Deadline.in(LOAD_MS));
    }

    /** This jar as the target can open it (itself, or a copy in the target's /tmp when it is in a container). */
    String jarInTarget() throws Exception {
        if (jarInTarget == null) {
            jarInTarget = files.jar(Path.of(jar()), Build.ID);
        }
        return jarInTarget;
    }

    /**
     * Asks the agent in the JVM for its status report and hands each line of it, as it arrives, to {@code line};
     * true when the report was complete.
     */
    boolean status(Consumer<String> line) throws Exception {
        try (StatusChannel channel = StatusChannel.open(files, target)) {
            Exception[] failed = {null};
            Thread loader = new Thread(() -> {
                try {
                    load(StatusRequest.STREAM + channel.pathInTarget);
                } catch (Exception e) {
                    failed[0] = e;
                }
            }, "mptcp-agent-status-load");
            loader.setDaemon(true);
            loader.start();
            boolean complete;
            try {
                complete = channel.read(ANSWER_MS, line);
            } catch (IOException e) {
                loader.join(100);
                if (failed[0] != null) {
                    throw failed[0];
                }
                throw e;
            }
            loader.join(LOAD_MS);
            if (failed[0] != null) {
                throw failed[0];
            }
            return complete;
        }
    }

    @Override
    public void close() {
        vm.close();
        files.close();
    }

    /** A JVM that did not answer in time: exit 1 (not a usage error), one line saying what was waited for. */
    static final class Unanswered extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unanswered(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    /** Path of the agent jar this command runs from. */
    static String jar() throws Exception {
        Class<?> launcher = Class.forName("mptcp.agent.boot.Launcher", false, ClassLoader.getSystemClassLoader());
        return new File(launcher.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
    }
}
