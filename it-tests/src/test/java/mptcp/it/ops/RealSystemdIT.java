package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code enable}, {@code enable --now} and {@code disable} against a real systemd: systemd 252 runs as PID 1 of its own
 * PID, mount, network and cgroup namespaces, on an overlay of the host's root whose writes go to a tmpfs, in a cgroup
 * made for the test, with a default target that starts nothing of the host's boot. Everything goes when the test
 * kills it. Services: JDK 17 and JDK 25 JVMs running {@link mptcp.it.servers.ServiceApp}; their sockets are read with
 * {@code ss -M} inside the namespace.
 */
class RealSystemdIT {
    @TempDir
    Path dir;

    private String pid;

    private List<String> inside(String... cmd) {
        List<String> out = new ArrayList<>(List.of("nsenter", "-t", pid, "-m", "-p", "-n", "-r", "-w", "--"));
        out.addAll(List.of(cmd));
        return out;
    }

    private DoctorIT.Run run(String... cmd) throws IOException, InterruptedException {
        return DoctorIT.run(inside(cmd));
    }

    private String ok(String... cmd) throws IOException, InterruptedException {
        DoctorIT.Run r = run(cmd);
        assertEquals(0, r.exit, String.join(" ", cmd) + "\n" + r);
        return r.output;
    }

    private Path root() {
        return Paths.get("/proc", pid, "root");
    }

    private void unit(String name, String text) throws IOException {
        Files.writeString(root().resolve("etc/systemd/system").resolve(name), text);
    }

    private static Path cgroup2() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/mountinfo"))) {
            String[] f = line.split(" - ");
            if (f.length == 2 && f[1].startsWith("cgroup2 ")) {
                return Paths.get(f[0].split(" ")[4]);
            }
        }
        throw new IllegalStateException("no cgroup2 hierarchy mounted: a real systemd cannot run here");
    }

    private String waitFor(String what, java.util.concurrent.Callable<String> probe) throws Exception {
        for (int i = 0; i < 200; i++) {
            String v = probe.call();
            if (v != null) {
                return v;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what + "\n" + Files.readString(dir.resolve("systemd.log")));
    }

    private String mainPid(String unit) throws Exception {
        return waitFor(unit + " running", () -> {
            String p = run("systemctl", "show", "-p", "MainPID", "--value", unit).output.trim();
            return p.equals("0") || p.isEmpty() ? null : p;
        });
    }

    /** JAVA_TOOL_OPTIONS of the service's JVM, once systemd's forked child has exec'd it (before, it has systemd's). */
    private String environ(String innerPid) throws Exception {
        waitFor("pid " + innerPid + " exec'd the JVM", () -> run("cat", "/proc/" + innerPid + "/cmdline").output
                .contains("mptcp.it.servers.ServiceApp") ? "" : null);
        String env = ok("cat", "/proc/" + innerPid + "/environ");
        for (String e : env.split("\0")) {
            if (e.startsWith("JAVA_TOOL_OPTIONS=")) {
                return e.substring("JAVA_TOOL_OPTIONS=".length());
            }
        }
        return null;
    }

    /** Listening MPTCP sockets of {@code innerPid}, from ss -M inside the namespace. */
    private long mptcpListeners(String innerPid) throws Exception {
        return ok("ss", "-Mlnp").lines().filter(l -> l.contains("pid=" + innerPid + ",")).count();
    }

    @Test
    void enableNowAndDisableAgainstARealSystemd() throws Exception {
        Netns.requireRoot();
        Path cgroup = cgroup2().resolve("mpa-systemd-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectory(cgroup);
        Path repo = ChildJvm.AGENT.getParent().getParent().getParent();
        Path inner = dir.resolve("inner.sh");
        Files.writeString(inner, String.join("\n",
                "set -e",
                "B=" + dir,
                "mkdir -p $B/rw $B/merged",
                "mount -t tmpfs tmpfs $B/rw",
                "mkdir -p $B/rw/upper $B/rw/work",
                "mount -t overlay overlay -o lowerdir=/,upperdir=$B/rw/upper,workdir=$B/rw/work $B/merged",
                "M=$B/merged",
                "mount -t proc proc $M/proc",
                "mount --rbind /dev $M/dev",
                "mount -t sysfs -o ro sysfs $M/sys",
                "mount -t cgroup2 cgroup2 $M/sys/fs/cgroup",
                "mount -t tmpfs tmpfs $M/run",
                "mount -t tmpfs tmpfs $M/tmp",
                "mkdir -p $M" + repo, // the checkout may live under /tmp, which is a fresh tmpfs in there
                "mount --bind " + repo + " $M" + repo,
                "printf '[Unit]\\nDescription=mptcp-agent test\\nDefaultDependencies=no\\n' > $M/etc/systemd/system/mpa-test.target",
                "exec chroot $M /usr/bin/env container=mptcp-agent-test /lib/systemd/systemd --system --unit=mpa-test.target",
                ""));
        Path outer = dir.resolve("outer.sh");
        Files.writeString(outer, "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec unshare --cgroup --pid --fork"
                + " --mount --net --propagation private sh " + inner + "\n");
        Process boot = new ProcessBuilder("sh", outer.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("systemd.log").toFile()).start();
        try {
            pid = waitFor("systemd", () -> ProcessHandle.of(boot.pid()).stream().flatMap(ProcessHandle::descendants)
                    .filter(p -> p.info().command().orElse("").endsWith("/systemd")).map(p -> String.valueOf(p.pid()))
                    .findFirst().orElse(null));
            waitFor("systemd running", () -> run("systemctl", "is-system-running").output.trim().equals("running") ? "" : null);
            check();
        } finally {
            boot.destroyForcibly();
            if (pid != null) {
                new ProcessBuilder("kill", "-9", pid).start().waitFor();
            }
            boot.waitFor();
            Thread.sleep(500);
            try (Stream<Path> s = Files.walk(cgroup)) {
                s.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(d -> d.toFile().delete());
            }
        }
    }

    private void check() throws Exception {
        String jdk17 = Jdk.JDK17.java();
        String jdk25 = Jdk.JDK25.java();
        String cp = ChildJvm.CLASSPATH;
        String unit = "[Unit]\nDefaultDependencies=no\n[Service]\n"
                + "Environment=\"JAVA_TOOL_OPTIONS=-Xmx64m -Dgreeting=\\\"hi there\\\"\"\n"
                + "ExecStart=%s -cp " + cp + " mptcp.it.servers.ServiceApp\n";
        unit("orders.service", String.format(unit, jdk17));
        Files.createDirectories(root().resolve("etc/systemd/system/orders.service.d"));
        unit("orders.service.d/10-heap.conf", "[Service]\nEnvironment=\"JAVA_TOOL_OPTIONS=-Xmx96m -Dgreeting=\\\"hi there\\\"\"\n");
        unit("billing.service", String.format(unit, jdk25));
        ok("systemctl", "daemon-reload");

        String enable = ok(jdk17, "-jar", ChildJvm.AGENT.toString(), "enable", "orders", "mode=server,log=info");
        assertTrue(enable.contains("systemctl daemon-reload: done"), enable);
        String agent = "-javaagent:" + ChildJvm.AGENT + "=mode=server,log=info";
        assertEquals("Environment=\"JAVA_TOOL_OPTIONS=-Xmx96m -Dgreeting=\\\"hi there\\\" " + agent + "\"\n",
                ok("systemctl", "show", "-p", "Environment", "orders"), "systemd's own view of the merged value");
        ok("systemctl", "start", "orders", "billing");
        String orders = mainPid("orders");
        String billing = mainPid("billing");
        assertEquals("-Xmx96m -Dgreeting=\"hi there\" " + agent, environ(orders));
        waitFor("an MPTCP listener of orders (JDK 17)", () -> mptcpListeners(orders) > 0 ? "" : null);
        assertEquals(0, mptcpListeners(billing), "billing has no agent yet");

        // --now: attach to billing's running JVM (JDK 25); listeners it opens from then on are MPTCP
        DoctorIT.Run now = run(jdk17, "-jar", ChildJvm.AGENT.toString(), "enable", "billing", "--now");
        assertEquals(0, now.exit, now.toString());
        assertTrue(now.output.contains("active in JVM " + billing), now.toString());
        waitFor("an MPTCP listener of billing after --now", () -> mptcpListeners(billing) > 0 ? "" : null);
        assertEquals("-Xmx64m -Dgreeting=\"hi there\"", environ(billing), "the running process keeps its environment");

        String disable = ok(jdk17, "-jar", ChildJvm.AGENT.toString(), "disable", "orders");
        assertTrue(disable.contains("removed /etc/systemd/system/orders.service.d/99-mptcp-agent.conf"), disable);
        assertFalse(ok("systemctl", "show", "-p", "DropInPaths", "orders").contains("99-mptcp-agent"));
        ok("systemctl", "restart", "orders");
        String restarted = waitFor("orders restarted", () -> {
            String p = mainPid("orders");
            return p.equals(orders) ? null : p;
        });
        assertEquals("-Xmx96m -Dgreeting=\"hi there\"", environ(restarted));
        waitFor("a listener of the restarted orders", () -> ok("ss", "-tlnp").contains("pid=" + restarted + ",") ? "" : null);
        assertEquals(0, mptcpListeners(restarted), "no agent after disable and restart");
    }
}
