package mptcp.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;

/** A JVM process named by the user on the command line: checks and the errors an operator understands. */
final class Target {
    final String pid;

    private Target(String pid) {
        this.pid = pid;
    }

    /** Validates {@code pid} as the id of a running process this user may attach to. */
    static Target of(String pid) {
        if (pid == null || !pid.matches("[1-9][0-9]{0,9}")) {
            throw new Cli.UsageException("invalid pid '" + pid + "': expected the process id of a running JVM (a positive number)");
        }
        if (String.valueOf(ProcessHandle.current().pid()).equals(pid)) {
            throw new Cli.UsageException("pid " + pid + " is this command itself");
        }
        Path proc = Paths.get("/proc", pid);
        if (!Files.isDirectory(proc)) {
            throw new Cli.UsageException("no such process: " + pid);
        }
        try {
            int owner = (Integer) Files.getAttribute(proc, "unix:uid");
            int me = (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
            if (owner != me) {
                throw new Cli.UsageException("process " + pid + " belongs to uid " + owner + ", this command runs as uid " + me
                        + "; a JVM only accepts attach from its own user: run this command as that user (e.g. sudo -u '#"
                        + owner + "' java -jar mptcp-agent.jar ...)");
            }
            String maps = new String(Files.readAllBytes(proc.resolve("maps")));
            if (!maps.contains("/libjvm.so")) {
                throw new Cli.UsageException("process " + pid + " (" + command(pid) + ") is not a Java virtual machine");
            }
        } catch (IOException e) {
            throw new Cli.UsageException("cannot inspect process " + pid + ": " + e.getMessage());
        }
        return new Target(pid);
    }

    VirtualMachine attach() {
        try {
            return VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException | IOException e) {
            String cmdline = cmdline(pid);
            if (cmdline.contains("-XX:+DisableAttachMechanism")) {
                throw new Cli.UsageException("JVM " + pid + " was started with -XX:+DisableAttachMechanism: it accepts no"
                        + " attach; start it with -javaagent:mptcp-agent.jar instead");
            }
            throw new Cli.UsageException("cannot attach to JVM " + pid + ": " + e.getMessage()
                    + " (is the attach mechanism disabled, or /tmp not shared with that process?)");
        }
    }

    /** "host:port" of each TCP socket of this process in state LISTEN (read from /proc/PID/net/tcp{,6} and /proc/PID/fd). */
    List<String> tcpListeners() {
        Set<String> inodes = new HashSet<>();
        try (var fds = Files.newDirectoryStream(Paths.get("/proc", pid, "fd"))) {
            for (Path fd : fds) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        inodes.add(link.substring(8, link.length() - 1));
                    }
                } catch (IOException ignored) {
                    // fd closed meanwhile
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String table : new String[] {"tcp", "tcp6"}) {
            try {
                for (String line : Files.readAllLines(Paths.get("/proc", pid, "net", table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                        out.add(ProcNet.address(f[1]));
                    }
                }
            } catch (IOException ignored) {
                // no IPv6
            }
        }
        return out;
    }

    static String command(String pid) {
        try {
            return new String(Files.readAllBytes(Paths.get("/proc", pid, "comm"))).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String cmdline(String pid) {
        try {
            return new String(Files.readAllBytes(Paths.get("/proc", pid, "cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }
}
