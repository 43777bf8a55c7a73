package mptcp.agent.cli.attach;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One process as /proc shows it to this command: its pid here and in its own pid namespace (NSpid), owner, start time
 * (which, with the pid, names the process even after the pid is reused), state, command line, whether it runs a JVM,
 * and whether it opted out of the agent. Reads are small and bounded; nothing here attaches or signals.
 */
public final class Target {
    public final long pid;
    /** The pid the process knows itself by (the last NSpid entry): HotSpot names its attach files with it. */
    public final long nspid;
    /** Real and effective uid, effective gid, as this command's user namespace sees them. */
    public final int uid;
    public final int euid;
    public final int egid;
    /** Clock ticks after boot (field 22 of /proc/PID/stat). */
    public final long startTime;
    /** The arguments, as exec(2) received them. */
    public final List<String> argv;
    /** SIGQUIT is caught (the JVM's handler, which starts the attach listener, is installed). */
    public final boolean catchesQuit;

    private Target(long pid, long nspid, int uid, int euid, int egid, long startTime, List<String> argv, boolean quit) {
        this.pid = pid;
        this.nspid = nspid;
        this.uid = uid;
        this.euid = euid;
        this.egid = egid;
        this.startTime = startTime;
        this.argv = argv;
        this.catchesQuit = quit;
    }

    /** /proc/PID/FILE. */
    static Path proc(long pid, String file) {
        return Path.of("/proc", Long.toString(pid), file);
    }

    /** The process {@code pid} as it is now; NoSuchFileException when there is none. */
    public static Target of(long pid) throws IOException {
        long start = startTime(pid);
        long nspid = pid;
        int uid = -1;
        int euid = -1;
        int egid = -1;
        boolean quit = false;
        for (String line : read(proc(pid, "status"), 1 << 16).split("\n")) {
            if (line.startsWith("NSpid:")) {
                String[] f = line.substring(6).trim().split("\\s+");
                nspid = Long.parseLong(f[f.length - 1]);
            } else if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).trim().split("\\s+");
                uid = Integer.parseInt(f[0]);
                euid = Integer.parseInt(f[1]);
            } else if (line.startsWith("Gid:")) {
                egid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
            } else if (line.startsWith("SigCgt:")) {
                quit = (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 2)) != 0; // bit of signal 3
            }
        }
        List<String> argv = new ArrayList<>();
        String cmdline = read(proc(pid, "cmdline"), 1 << 20);
        for (String a : cmdline.split("\0")) {
            argv.add(a);
        }
        if (cmdline.isEmpty()) {
            argv.clear(); // a kernel thread or a zombie
        }
        return new Target(pid, nspid, uid, euid, egid, start, Collections.unmodifiableList(argv), quit);
    }

    /** Field 22 of /proc/PID/stat (after the command name, which may contain spaces and parentheses). */
    static long startTime(long pid) throws IOException {
        String stat = read(proc(pid, "stat"), 4096);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[19]);
    }

    /** Still the same process (same pid, same start time), and not a zombie? */
    public boolean alive() {
        try {
            String s = state();
            return startTime(pid) == startTime && s != null && !s.startsWith("Z") && !s.startsWith("X");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether the process is gone, or goes within {@code graceMs} (an error may come from a process that is exiting). */
    public boolean goneWithin(long graceMs) {
        long end = System.nanoTime() + graceMs * 1_000_000;
        while (alive()) {
            if (System.nanoTime() - end > 0) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** The command line, arguments joined by spaces (what --include and --exclude match). */
    public String commandLine() {
        return String.join(" ", argv);
    }

    /** The command name (comm), "?" when gone. */
    public String comm() {
        return comm(pid);
    }

    /** The command name (comm) of process {@code pid}: one small read; "?" when gone. */
    public static String comm(long pid) {
        try {
            return read(proc(pid, "comm"), 256).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * Whether the process runs a HotSpot JVM: libjvm.so is mapped. Throws a message with the true reason when this
     * command may not look (the kernel lets it read /proc/PID/maps only for processes it may ptrace).
     */
    public boolean isJvm() throws IOException {
        return mapped() == 2;
    }

    /**
     * Whether the process is a Java launcher that has not loaded its JVM yet (libjli.so mapped, libjvm.so not yet): a
     * JVM in a moment (on a loaded machine, that moment can last seconds).
     */
    public boolean isStartingJvm() throws IOException {
        return mapped() == 1;
    }

    /** 2: libjvm.so is mapped; 1: only the launcher's libjli.so; 0: neither. */
    private int mapped() throws IOException {
        try (java.io.BufferedReader in = Files.newBufferedReader(proc(pid, "maps"), StandardCharsets.ISO_8859_1)) {
            int found = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.endsWith("/libjvm.so")) {
                    return 2;
                }
                if (line.endsWith("/libjli.so")) {
                    found = 1;
                }
            }
            return found;
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException("cannot tell whether process " + pid + " (" + comm() + ", uid " + euid
                    + ") is a JVM: the kernel refused to let this command (uid " + ownEuid() + ") read /proc/" + pid
                    + "/maps; it shows a process's mappings only to those who may ptrace it (the same uid and a"
                    + " dumpable process, or CAP_SYS_PTRACE over the process's user namespace; Yama or another"
                    + " security module may refuse more)");
        }
    }

    /** State letter and name from /proc/PID/stat ("T (stopped)"), or null when gone. */
    public String state() {
        try {
            String stat = read(proc(pid, "stat"), 4096);
            char s = stat.charAt(stat.lastIndexOf(')') + 2);
            switch (s) {
                case 'T': return "T (stopped)";
                case 't': return "t (tracing stop)";
                case 'D': return "D (uninterruptible sleep)";
                case 'Z': return "Z (zombie)";
                case 'R': return "R (running)";
                case 'S': return "S (sleeping)";
                default: return String.valueOf(s);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** What /proc says that may explain a JVM not answering: " (stopped? state T in /proc/1234/stat)", or "". */
    public String stateNote() {
        if (!alive()) {
            return " (it has exited)";
        }
        String s = state();
        if (s == null) {
            return "";
        }
        if (s.startsWith("T") || s.startsWith("t")) {
            return " (stopped? state " + s.charAt(0) + " in /proc/" + pid + "/stat)";
        }
        return " (state " + s + " in /proc/" + pid + "/stat)";
    }

    /**
     * Why the JVM must not get the agent because it opted out, or null: MPTCP_AGENT_ENABLED=false in its environment,
     * -Dmptcp.agent.enabled=false or -javaagent:...mptcp-agent...=...enabled=false on its command line or in
     * JAVA_TOOL_OPTIONS / JDK_JAVA_OPTIONS.
     */
    public String optOut() throws IOException {
        String found = optOutIn(argv, "command line");
        if (found != null) {
            return found;
        }
        String environ;
        try {
            environ = read(proc(pid, "environ"), 1 << 20);
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException("cannot read the environment of process " + pid
                    + " (/proc/" + pid + "/environ) to see whether it opted out: permission denied");
        }
        for (String var : environ.split("\0")) {
            int eq = var.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String name = var.substring(0, eq);
            String value = var.substring(eq + 1);
            if (name.equals("MPTCP_AGENT_ENABLED") && value.trim().equalsIgnoreCase("false")) {
                return "MPTCP_AGENT_ENABLED=false in its environment";
            }
            if (name.equals("JAVA_TOOL_OPTIONS") || name.equals("JDK_JAVA_OPTIONS")) {
                found = optOutIn(List.of(value.trim().split("\\s+")), name);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String optOutIn(List<String> args, String where) {
        for (String a : args) {
            if (a.equals("-Dmptcp.agent.enabled=false") || a.equalsIgnoreCase("-Dmptcp.agent.enabled=false")) {
                return "-Dmptcp.agent.enabled=false in its " + where;
            }
            if (a.startsWith("-javaagent:") && a.contains("mptcp-agent")) {
                int eq = a.indexOf('=');
                if (eq > 0) {
                    for (String kv : a.substring(eq + 1).split(",")) {
                        if (kv.trim().equalsIgnoreCase("enabled=false")) {
                            return "-javaagent:...=enabled=false in its " + where;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** The main class, "-jar FILE" or "-m MODULE[/CLASS]" from the command line; "?" when none is found. */
    public String main() {
        List<String> withArg = List.of("-cp", "-classpath", "--class-path", "-p", "--module-path", "--add-modules",
                "--add-opens", "--add-exports", "--add-reads", "--patch-module", "--limit-modules",
                "--upgrade-module-path", "--enable-native-access", "--source");
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("-jar") && i + 1 < argv.size()) {
                return argv.get(i + 1);
            }
            if ((a.equals("-m") || a.equals("--module")) && i + 1 < argv.size()) {
                return argv.get(i + 1);
            }
            if (a.startsWith("--module=")) {
                return a.substring(9);
            }
            if (withArg.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                return a;
            }
        }
        return argv.isEmpty() ? "?" : argv.get(0);
    }

    /** This command's effective uid. */
    public static int ownEuid() {
        try {
            for (String line : read(Path.of("/proc/self/status"), 1 << 16).split("\n")) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return -1;
    }

    /** Reads at most {@code max} bytes of a /proc file (never blocks on a live process's files). */
    static String read(Path file, int max) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(max), StandardCharsets.UTF_8);
        }
    }

    /** The pids in /proc now (one readdir of /proc). */
    public static List<Long> pids() {
        List<Long> out = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : d) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.charAt(0) >= '1' && n.charAt(0) <= '9') {
                    try {
                        out.add(Long.parseLong(n));
                    } catch (NumberFormatException ignored) {
                        // not a pid
                    }
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** True for the "no such process" errors of /proc reads. */
    public static boolean gone(IOException e) {
        return e instanceof NoSuchFileException || (e.getMessage() != null && e.getMessage().contains("No such process"));
    }

    @Override
    public String toString() {
        return "pid " + pid + (nspid != pid ? " (nspid " + nspid + ")" : "") + " uid " + euid;
    }
}
