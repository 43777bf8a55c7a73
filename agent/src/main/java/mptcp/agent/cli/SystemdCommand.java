package mptcp.agent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import mptcp.agent.config.Config;

/**
 * {@code enable <unit> [key=value,...] [--now] [--root DIR]} and {@code disable <unit> [--root DIR]}: a systemd
 * drop-in ({@code /etc/systemd/system/<unit>.d/99-mptcp-agent.conf}) that loads the agent into a service's JVM through
 * {@code JAVA_TOOL_OPTIONS}, keeping what the unit already puts there (see {@link DropIn}). {@code --root DIR} works
 * on the unit files under DIR without calling systemctl (image builds); otherwise {@code systemctl daemon-reload}
 * follows, and {@code --now} attaches the agent to the running MainPID.
 */
public final class SystemdCommand {
    private static final String ENABLE = "usage: enable <unit> [key=value,...] [--now] [--root DIR] [--jar PATH]";
    private static final String DISABLE = "usage: disable <unit> [--root DIR]";

    private SystemdCommand() {
    }

    public static int enable(List<String> args, PrintStream out) throws IOException, InterruptedException {
        String unit = null;
        String options = "";
        String root = null;
        String jar = null;
        boolean now = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--now")) {
                now = true;
            } else if ((a.equals("--root") || a.equals("--jar")) && i + 1 < args.size()) {
                if (a.equals("--root")) {
                    root = args.get(++i);
                } else {
                    jar = args.get(++i);
                }
            } else if (a.startsWith("-")) {
                return usage("unknown option '" + a + "'", ENABLE);
            } else if (unit == null) {
                unit = a;
            } else if (options.isEmpty() && a.contains("=")) {
                options = a;
            } else {
                return usage("unexpected argument '" + a + "'", ENABLE);
            }
        }
        if (unit == null) {
            return usage("no unit given", ENABLE);
        }
        String name = DropIn.serviceName(unit);
        if (name == null) {
            return usage("'" + unit + "' is not a service unit name (e.g. app or app.service)", ENABLE);
        }
        try {
            options = Config.arguments(options);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage(), ENABLE);
        }
        if (now && root != null) {
            return usage("--now attaches to the running service: not with --root", ENABLE);
        }
        if (root == null && !systemdRunning()) {
            return 1;
        }
        Path base = Paths.get(root == null ? "/" : root).toAbsolutePath().normalize();
        if (root != null && !Files.isDirectory(base)) {
            return usage("--root " + root + ": no such directory", ENABLE);
        }
        if (jar == null) {
            jar = DoctorCommand.jar();
            if (root != null && Paths.get(jar).toAbsolutePath().startsWith(base) && !base.toString().equals("/")) {
                jar = "/" + base.relativize(Paths.get(jar).toAbsolutePath());
            }
        }
        DropIn.Unit u = DropIn.read(base, name);
        if (u == null) {
            System.err.println("mptcp-agent: no such unit: " + name + " (no unit file in " + dirs(base) + ")");
            return 1;
        }
        if (DropIn.loadsAgent(u.javaToolOptions)) {
            out.println(name + " already loads mptcp-agent through JAVA_TOOL_OPTIONS in " + u.javaToolOptionsFrom
                    + "; no drop-in written");
            return 0;
        }
        for (String f : u.environmentFiles) {
            Path p = base.resolve(f.startsWith("/") ? f.substring(1) : f);
            if (Files.isReadable(p) && DropIn.setsJavaToolOptions(new String(Files.readAllBytes(p), StandardCharsets.UTF_8))) {
                System.err.println("mptcp-agent: " + name + " sets JAVA_TOOL_OPTIONS in EnvironmentFile " + f + ", which"
                        + " overrides Environment=; no drop-in written: append " + DropIn.agentOption(jar, options)
                        + " to JAVA_TOOL_OPTIONS in " + f);
                return 1;
            }
        }
        if (!DropIn.isJvm(u.execStart)) {
            System.err.println("mptcp-agent: WARNING: ExecStart of " + name + " runs " + u.execStart + ", not java: if it is"
                    + " a wrapper script that starts a JVM, JAVA_TOOL_OPTIONS reaches it; otherwise the drop-in does nothing");
        }
        if (root != null && !Files.exists(base.resolve(jar.substring(1)))) {
            System.err.println("mptcp-agent: WARNING: " + jar + " does not exist under " + base + "; put the jar there"
                    + " (or give its path in the image with --jar)");
        }
        List<String> recorded = new ArrayList<>(args);
        int r = recorded.indexOf("--root");
        if (r >= 0) {
            recorded.subList(r, r + 2).clear(); // the image's path, meaningless inside it
        }
        String commandLine = "java -jar " + jar + " enable " + String.join(" ", recorded);
        Path dir = base.resolve("etc/systemd/system").resolve(name + ".d");
        Path file = dir.resolve(DropIn.FILE);
        String text;
        try {
            text = DropIn.content(u, jar, options, commandLine);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage(), ENABLE);
        }
        try {
            Files.createDirectories(dir);
            Files.write(file, text.getBytes(StandardCharsets.UTF_8));
        } catch (AccessDeniedException e) {
            System.err.println("mptcp-agent: cannot write " + file + ": permission denied (run as root, e.g. with sudo)");
            return 1;
        }
        out.println("wrote " + file + ":");
        out.print(text);
        if (u.javaToolOptions != null) {
            out.println("(kept JAVA_TOOL_OPTIONS from " + u.javaToolOptionsFrom + ": " + u.javaToolOptions + ")");
        }
        if (root != null) {
            out.println("offline (--root): no systemctl call; the agent loads when " + name + " starts");
            return 0;
        }
        if (systemctl(out, "daemon-reload") != 0) {
            return 1;
        }
        if (!now) {
            out.println("restart " + name + " to load the agent (systemctl restart " + name + "), or run enable --now to"
                    + " attach it to the running process");
            return 0;
        }
        return attachNow(name, jar, options, out);
    }

    public static int disable(List<String> args, PrintStream out) throws IOException, InterruptedException {
        String unit = null;
        String root = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--root") && i + 1 < args.size()) {
                root = args.get(++i);
            } else if (a.startsWith("-") || unit != null) {
                return usage("unexpected argument '" + a + "'", DISABLE);
            } else {
                unit = a;
            }
        }
        String name = unit == null ? null : DropIn.serviceName(unit);
        if (name == null) {
            return usage(unit == null ? "no unit given" : "'" + unit + "' is not a service unit name", DISABLE);
        }
        if (root == null && !systemdRunning()) {
            return 1;
        }
        Path base = Paths.get(root == null ? "/" : root).toAbsolutePath().normalize();
        Path dir = base.resolve("etc/systemd/system").resolve(name + ".d");
        Path file = dir.resolve(DropIn.FILE);
        if (!Files.exists(file)) {
            out.println(name + ": no mptcp-agent drop-in (" + file + "); nothing to do");
            return 0;
        }
        try {
            Files.delete(file);
            try (var s = Files.list(dir)) {
                if (s.findAny().isEmpty()) {
                    Files.delete(dir);
                }
            }
        } catch (AccessDeniedException e) {
            System.err.println("mptcp-agent: cannot remove " + file + ": permission denied (run as root, e.g. with sudo)");
            return 1;
        }
        out.println("removed " + file);
        if (root != null) {
            return 0;
        }
        if (systemctl(out, "daemon-reload") != 0) {
            return 1;
        }
        out.println("the running process keeps the agent until " + name + " restarts (systemctl restart " + name + ")");
        return 0;
    }

    /** Attaches to the service's MainPID, as the service's user (a JVM accepts attach only from its own user). */
    private static int attachNow(String name, String jar, String options, PrintStream out)
            throws IOException, InterruptedException {
        String pid = capture("systemctl", "show", "-p", "MainPID", "--value", name).trim();
        if (pid.isEmpty() || pid.equals("0")) {
            out.println(name + " is not running: the agent loads when it starts");
            return 0;
        }
        int uid = (Integer) Files.getAttribute(Paths.get("/proc", pid), "unix:uid");
        int gid = (Integer) Files.getAttribute(Paths.get("/proc", pid), "unix:gid");
        List<String> cmd = new ArrayList<>();
        if (uid != (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")) {
            cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        }
        cmd.addAll(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar, "attach", pid));
        if (!options.isEmpty()) {
            cmd.add(options);
        }
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    private static int systemctl(PrintStream out, String... args) throws InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("systemctl"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().replaceAll("\\s*\\n\\s*", "; ");
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.err.println("mptcp-agent: `" + String.join(" ", cmd) + "` failed: " + text
                        + " (is systemd running here? for an image or a chroot use --root DIR)");
                return 1;
            }
            out.println(String.join(" ", cmd) + ": done");
            return 0;
        } catch (IOException e) {
            System.err.println("mptcp-agent: systemctl not found (" + e.getMessage() + "); for an image or a chroot use --root DIR");
            return 1;
        }
    }

    /** sd_booted()'s test: without a running systemd, nothing is written (use --root for images and chroots). */
    private static boolean systemdRunning() {
        if (Files.isDirectory(Paths.get("/run/systemd/system"))) {
            return true;
        }
        System.err.println("mptcp-agent: systemd is not running here (no /run/systemd/system); nothing written. For an"
                + " image or a chroot, use --root DIR");
        return false;
    }

    private static String capture(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return text;
    }

    private static String dirs(Path base) {
        List<String> out = new ArrayList<>();
        DropIn.DIRS.forEach(d -> out.add(base.resolve(d).toString()));
        return String.join(", ", out);
    }

    private static int usage(String message, String usage) {
        throw new UsageException(message + "; " + usage);
    }
}
