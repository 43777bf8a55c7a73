package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code doctor} in network namespaces made by the test, in each state the kernel can be in: MPTCP disabled (exit 1,
 * names the sysctl), enabled with the default limits and no endpoint (exit 3, names the limits and endpoint commands),
 * limits and a signal endpoint (exit 0); and {@code doctor <pid>} of a JVM inside a namespace, run from the host,
 * reports that namespace, not the host's.
 */
class DoctorIT {

    /** Exit code and output (stdout + stderr) of a command. */
    static final class Run {
        final int exit;
        final String output;

        Run(int exit, String output) {
            this.exit = exit;
            this.output = output;
        }

        @Override
        public String toString() {
            return "exit " + exit + ":\n" + output;
        }
    }

    static Run run(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("MPTCP_AGENT_") || k.equals("JAVA_TOOL_OPTIONS"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not exit: " + String.join(" ", cmd));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static List<String> doctor(Jdk jdk, String... args) {
        List<String> cmd = new ArrayList<>(List.of(jdk.java(), "-jar", ChildJvm.AGENT.toString(), "doctor"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void eachStateOfANamespace(Jdk jdk) throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            Run disabled = run(ns.wrap(doctor(jdk)));
            assertEquals(1, disabled.exit, disabled.toString());
            assertTrue(disabled.output.contains("fail  enabled        net.mptcp.enabled = 0"), disabled.toString());
            assertTrue(disabled.output.contains("fix: sysctl -w net.mptcp.enabled=1"), disabled.toString());

            ns.exec("sysctl", "-qw", "net.mptcp.enabled=1");
            Run single = run(ns.wrap(doctor(jdk)));
            assertEquals(3, single.exit, single.toString());
            assertTrue(single.output.contains("fix: ip mptcp limits set subflow 2 add_addr_accepted 2"), single.toString());
            assertTrue(single.output.contains(" signal    # server:"), single.toString());
            assertTrue(single.output.contains(" subflow   # client:"), single.toString());
            assertTrue(single.output.contains("As a client: one path only"), single.toString());

            String addr = "10.93." + (int) (Math.random() * 250) + ".1";
            ns.exec("ip", "addr", "add", addr + "/32", "dev", "lo");
            ns.exec("ip", "mptcp", "limits", "set", "subflow", "2", "add_addr_accepted", "2");
            ns.exec("ip", "mptcp", "endpoint", "add", addr, "dev", "lo", "signal");
            Run ready = run(ns.wrap(doctor(jdk)));
            assertEquals(0, ready.exit, ready.toString());
            assertTrue(ready.output.contains("ok    endpoints      " + addr + " (signal, dev lo)"), ready.toString());
            assertTrue(ready.output.contains("As a server: accepts up to 2 additional subflow(s) per connection from"
                    + " clients' other addresses; announces " + addr + " to clients"), ready.toString());
            assertTrue(ready.output.contains("As a client: joins up to 2 address(es) a server announces"), ready.toString());

            Run json = run(ns.wrap(doctor(jdk, "--json")));
            assertEquals(0, json.exit, json.toString());
            assertTrue(json.output.contains("\"result\": \"ready\""), json.toString());
            assertTrue(json.output.contains("\"limits\": {\"subflows\": 2, \"add_addr_accepted\": 2}"), json.toString());
            assertTrue(json.output.contains("\"flags\": [\"signal\"]"), json.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void pidOfAJvmInANamespace(Jdk jdk) throws Exception {
        Run host = run(doctor(jdk, "--json"));
        assertNotEquals(1, host.exit, "precondition: MPTCP enabled on the host\n" + host);
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            try (ChildJvm app = ChildJvm.command(ns.wrap(List.of(jdk.java(), "-cp", ChildJvm.CLASSPATH,
                    "mptcp.it.apps.PeerApp")), Map.of())) {
                app.expect("STARTED");
                String pid = String.valueOf(app.pid());
                Run inside = run(doctor(jdk, pid));
                assertEquals(1, inside.exit, inside.toString());
                assertTrue(inside.output.startsWith("mptcp-agent doctor: pid " + pid + " (java), network namespace net:["),
                        inside.toString());
                assertTrue(inside.output.contains("fix: nsenter -t " + pid + " -n sysctl -w net.mptcp.enabled=1"), inside.toString());
                assertTrue(inside.output.contains("securityContext.sysctls"), inside.toString());

                Run json = run(doctor(jdk, "--json", pid));
                assertEquals(1, json.exit, json.toString());
                String hostNs = field(host.output, "namespace").replaceAll(".*(net:\\[\\d+\\]).*", "$1");
                String theirNs = field(json.output, "namespace").replaceAll(".*(net:\\[\\d+\\]).*", "$1");
                assertNotEquals(hostNs, theirNs, json.output);
                assertTrue(json.output.contains("\"net.mptcp.enabled\": \"0\""), json.toString());
                assertTrue(host.output.contains("\"net.mptcp.enabled\": \"1\""), host.toString());
            }
        }
        Run bad = run(doctor(jdk, "999999999"));
        assertEquals(2, bad.exit, bad.toString());
        assertTrue(bad.output.contains("no such process: 999999999"), bad.toString());
    }

    @org.junit.jupiter.api.Test
    void userspacePathManagerNeedsMptcpdInThatNamespace() throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.path_manager=userspace");
            Run without = run(ns.wrap(doctor(Jdk.JDK17)));
            assertEquals(3, without.exit, without.toString());
            assertTrue(without.output.contains("no mptcpd runs in this network namespace"), without.toString());
            assertTrue(without.output.contains("fix: systemctl start mptcpd"), without.toString());
            // mptcpd on the host does not count: it must run in the namespace
            try (ChildJvm mptcpd = ChildJvm.command(ns.wrap(List.of("/usr/libexec/mptcpd", "--log=stderr")), Map.of())) {
                Run with = null;
                for (int i = 0; i < 50 && (with == null || with.exit != 0); i++) {
                    Thread.sleep(100); // until mptcpd is up
                    with = run(ns.wrap(doctor(Jdk.JDK17)));
                }
                assertEquals(0, with.exit, with.toString());
                assertTrue(with.output.contains("mptcpd running (pid " + mptcpd.pid() + ")"), with.toString());
                assertTrue(with.output.contains("As a client: as mptcpd's plug-ins decide"), with.toString());
            }
        }
    }

    private static String field(String json, String name) {
        for (String line : json.split("\n")) {
            if (line.trim().startsWith("\"" + name + "\": ")) {
                return line;
            }
        }
        throw new AssertionError("no " + name + " in " + json);
    }
}
