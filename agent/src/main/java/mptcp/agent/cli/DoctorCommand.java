package mptcp.agent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * {@code doctor [--json] [<pid>]}: will this host (or the network namespace of process {@code pid}) really use
 * several paths? Reads the facts of one network namespace and hands them to {@link Doctor}.
 *
 * <p>Where the facts come from: the {@code net.mptcp.*} sysctls from /proc/sys/net/mptcp (which shows the network
 * namespace of the reading thread), a probe {@code socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)}, the path manager's
 * limits and endpoints from iproute2 ({@code ip mptcp limits|endpoint show}, itself a netlink client of the kernel's
 * {@code mptcp_pm} family), the interface addresses from {@code ip -o addr show}, mptcpd from /proc/PID/comm and
 * /proc/PID/ns/net. For {@code doctor <pid>} in another network namespace, this command runs itself again under
 * {@code nsenter -t <pid> -n} (root, util-linux): sysctls, probe socket and netlink are then all the target's.
 */
public final class DoctorCommand {
    private static final String USAGE = "usage: doctor [--json] [<pid>]";

    private DoctorCommand() {
    }

    public static int run(List<String> args, PrintStream out) throws IOException, InterruptedException {
        boolean json = false;
        String pid = null;
        String inside = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--json")) {
                json = true;
            } else if (a.equals("--inside") && i + 1 < args.size()) {
                inside = args.get(++i); // internal: we run under nsenter for `doctor <pid>`
            } else if (pid == null && a.matches("[1-9][0-9]{0,9}")) {
                pid = a;
            } else {
                return usage(a.startsWith("-") ? "unknown option '" + a + "'" : "invalid pid '" + a
                        + "': expected the id of a running process");
            }
        }
        Doctor.Facts facts = new Doctor.Facts();
        String myNs = link(Paths.get("/proc/self/ns/net"));
        if (inside != null) {
            facts.namespace = "pid " + inside + " (" + comm(inside) + "), network namespace " + myNs;
            facts.fixPrefix = "nsenter -t " + inside + " -n ";
        } else if (pid != null) {
            if (!Files.isDirectory(Paths.get("/proc", pid))) {
                return usage("no such process: " + pid);
            }
            String theirs = link(Paths.get("/proc", pid, "ns", "net"));
            if (theirs == null) {
                return usage("cannot read /proc/" + pid + "/ns/net (a process of another user): run as root, e.g."
                        + " sudo java -jar mptcp-agent.jar doctor " + pid);
            }
            if (!theirs.equals(myNs)) {
                return inNamespaceOf(pid, json);
            }
            facts.namespace = "pid " + pid + " (" + comm(pid) + "), network namespace " + myNs + " (the same as this command's)";
        } else {
            String init = link(Paths.get("/proc/1/ns/net"));
            facts.namespace = "this command's network namespace " + myNs + (myNs != null && myNs.equals(init)
                    ? " (the host's: the same as pid 1)" : "");
        }
        read(facts, myNs);
        Doctor.Result result = Doctor.evaluate(facts);
        out.print(json ? Doctor.json(facts, result) : Doctor.text(facts, result));
        out.flush();
        return result.exit;
    }

    private static int usage(String message) {
        throw new UsageException(message + "; " + USAGE);
    }

    /** Runs this command again inside the network namespace of {@code pid} (nsenter needs root). */
    private static int inNamespaceOf(String pid, boolean json) throws IOException, InterruptedException {
        if (!isRoot()) {
            return usage("pid " + pid + " is in another network namespace; entering it needs root (CAP_SYS_ADMIN): run"
                    + " sudo java -jar mptcp-agent.jar doctor " + pid);
        }
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", pid, "-n", "--",
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar(),
                "doctor", "--inside", pid)); // -jar: the manifest's Enable-Native-Access applies (JDK 24+ warns otherwise)
        if (json) {
            cmd.add("--json");
        }
        Process p;
        try {
            p = new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            return usage("pid " + pid + " is in another network namespace and nsenter (util-linux) is not available: "
                    + e.getMessage());
        }
        return p.waitFor();
    }

    /** Reads everything {@link Doctor} needs from the current network namespace. */
    static void read(Doctor.Facts f, String myNs) throws InterruptedException {
        f.kernel = read(Paths.get("/proc/sys/kernel/osrelease"));
        Path dir = Paths.get("/proc/sys/net/mptcp");
        f.sysctlDir = Files.isDirectory(dir);
        if (f.sysctlDir) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                s.forEach(files::add);
            } catch (IOException ignored) {
                // reported as unreadable below
            }
            files.sort(null);
            for (Path p : files) {
                String v = read(p);
                if (v != null) {
                    f.sysctl.put(p.getFileName().toString(), v);
                }
            }
        }
        f.counters = counters(read(Paths.get("/proc/net/netstat")));
        try {
            int fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
            if (fd >= 0) {
                Sock.close(fd);
                f.probeErrno = 0;
            } else {
                f.probeErrno = -fd;
                f.probeError = Errno.describe(-fd);
            }
        } catch (Throwable t) {
            f.probeError = "native binding failed: " + t;
        }
        try {
            f.limits = ip("mptcp", "limits", "show");
            f.endpoints = ip("mptcp", "endpoint", "show");
            f.addresses = Doctor.parseAddresses(ip("-o", "addr", "show"));
        } catch (IOException e) {
            f.ipError = e.getMessage();
            f.limits = null;
            f.endpoints = null;
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Paths.get("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                if ("mptcpd".equals(read(p.resolve("comm"))) && myNs != null && myNs.equals(link(p.resolve("ns/net")))) {
                    f.mptcpd.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException ignored) {
            // no /proc listing: mptcpd unknown
        }
    }

    /**
     * The {@code MPTcpExt} counters of /proc/net/netstat (this thread's network namespace): a line of names, then a line
     * of values.
     */
    static java.util.Map<String, Long> counters(String netstat) {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        if (netstat == null) {
            return out;
        }
        String[] lines = netstat.split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("MPTcpExt:") && lines[i + 1].startsWith("MPTcpExt:")) {
                String[] names = lines[i].trim().split("\\s+");
                String[] values = lines[i + 1].trim().split("\\s+");
                for (int k = 1; k < Math.min(names.length, values.length); k++) {
                    try {
                        out.put(names[k], Long.parseLong(values[k]));
                    } catch (NumberFormatException ignored) {
                        // not a counter
                    }
                }
                break;
            }
        }
        return out;
    }

    private static String ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("iproute2's `ip` is not installed (" + e.getMessage() + ")");
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("`" + String.join(" ", cmd) + "` did not finish");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("`" + String.join(" ", cmd) + "` failed: " + text.trim());
        }
        return text;
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException ignored) {
            // assume not
        }
        return false;
    }

    /**
     * Reads a /proc file in one read of a large buffer: the kernel's integer sysctl handlers answer only a read at
     * offset 0 (Files.readAllBytes, seeing size 0, starts with a 1-byte read and gets "1" of "120").
     */
    static String read(Path p) {
        try (java.io.InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[65536];
            int n = 0;
            for (int r; n < buf.length && (r = in.read(buf, n, buf.length - n)) > 0; ) {
                n += r;
            }
            return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String comm(String pid) {
        String c = read(Paths.get("/proc", pid, "comm"));
        return c == null ? "?" : c;
    }

    static String jar() {
        try {
            return AttachSession.jar();
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate the agent jar: " + e, e);
        }
    }
}
