package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code enable}/{@code disable} on an offline root (--root: what image builds use; no systemd runs here): the drop-in
 * keeps the JAVA_TOOL_OPTIONS of the unit and its other drop-ins, passes {@code systemd-analyze verify} without a
 * single warning, and the value systemd would export loads the agent into a real JVM (JDK 17 and 25) with the kept
 * options intact; disable removes only our drop-in; errors are clear.
 */
class SystemdIT {
    @TempDir
    Path root;

    private static final String UNIT = "[Unit]\nDescription=demo\nDefaultDependencies=no\n[Service]\n"
            + "Environment=\"JAVA_TOOL_OPTIONS=-Xmx64m -Dgreeting=\\\"hi there\\\"\" OTHER=1\n"
            + "ExecStart=/usr/bin/java -jar /opt/app.jar\n";

    private Path write(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    private static DoctorIT.Run cli(Jdk jdk, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(jdk.java(), "-jar", ChildJvm.AGENT.toString()));
        cmd.addAll(List.of(args));
        return DoctorIT.run(cmd);
    }

    /** The real java launcher at /usr/bin/java of the root, so that verify finds an executable ExecStart. */
    private void javaInRoot(Jdk jdk) throws IOException {
        Path bin = root.resolve("usr/bin/java");
        Files.createDirectories(bin.getParent());
        Files.copy(Paths.get(jdk.java()).toRealPath(), bin);
    }

    private DoctorIT.Run verify() throws IOException, InterruptedException {
        return DoctorIT.run(List.of("systemd-analyze", "verify", "--root=" + root, "demo.service"));
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void enableKeepsJavaToolOptionsAndTheAgentLoads(Jdk jdk) throws Exception {
        javaInRoot(jdk);
        Path unit = write("lib/systemd/system/demo.service", UNIT);
        Path heap = write("etc/systemd/system/demo.service.d/10-heap.conf",
                "[Service]\nEnvironment=\"JAVA_TOOL_OPTIONS=-Xmx96m -Dgreeting=\\\"hi there\\\"\"\n");
        assertEquals("", verify().output, "the test unit itself is clean");
        // the jar in a directory with a space: the option must be quoted for the JVM's JAVA_TOOL_OPTIONS parser
        Path jar = root.resolve("opt/mptcp agent/mptcp-agent.jar");
        Files.createDirectories(jar.getParent());
        Files.copy(ChildJvm.AGENT, jar);

        DoctorIT.Run enable = cli(jdk, "enable", "demo", "log=info,mode=server,loopback=mptcp", "--root", root.toString(),
                "--jar", jar.toString());
        assertEquals(0, enable.exit, enable.toString());
        Path dropIn = root.resolve("etc/systemd/system/demo.service.d/99-mptcp-agent.conf");
        String text = Files.readString(dropIn);
        String expected = "Environment=\"JAVA_TOOL_OPTIONS=-Xmx96m -Dgreeting=\\\"hi there\\\" '-javaagent:" + jar
                + "=mode=server,log=info,loopback=mptcp'\"\n";
        assertTrue(text.startsWith("# Written by: java -jar " + jar + " enable demo log=info,mode=server,loopback=mptcp --jar "), text);
        assertTrue(text.endsWith("[Service]\n" + expected), text);
        assertEquals(UNIT, Files.readString(unit), "the unit file is never edited");
        DoctorIT.Run verify = verify();
        assertEquals(0, verify.exit, verify.toString());
        assertEquals("", verify.output, "systemd-analyze verify: no warning about the drop-in");

        // the value systemd exports (after its unquoting: \" -> "), in a real JVM
        String value = "-Xmx96m -Dgreeting=\"hi there\" '-javaagent:" + jar + "=mode=server,log=info,loopback=mptcp'";
        try (ChildJvm app = ChildJvm.command(List.of(jdk.java(), "-cp", ChildJvm.CLASSPATH, "-XshowSettings:properties",
                "mptcp.it.apps.PeerApp"), java.util.Map.of("JAVA_TOOL_OPTIONS", value))) {
            app.expect("STARTED");
            app.send("listen");
            app.expect("LISTEN ");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            app.send("exit");
            app.waitFor();
            assertTrue(app.stderrLines().contains("    greeting = hi there"), app.output());
            assertTrue(app.agentLines().stream().anyMatch(l -> l.startsWith("mptcp-agent: INFO: active (premain)")
                    && l.contains("mode=server")), app.output());
        }

        // enable again: the same file, the agent not appended twice
        DoctorIT.Run again = cli(jdk, "enable", "demo", "log=info,mode=server,loopback=mptcp", "--root", root.toString(),
                "--jar", jar.toString());
        assertEquals(0, again.exit, again.toString());
        assertEquals(text, Files.readString(dropIn));

        DoctorIT.Run disable = cli(jdk, "disable", "demo.service", "--root", root.toString());
        assertEquals(0, disable.exit, disable.toString());
        assertFalse(Files.exists(dropIn), disable.toString());
        assertTrue(Files.exists(heap), "other drop-ins stay");
        assertEquals(UNIT, Files.readString(unit));
        DoctorIT.Run twice = cli(jdk, "disable", "demo", "--root", root.toString());
        assertEquals(0, twice.exit, twice.toString());
        assertTrue(twice.output.contains("no mptcp-agent drop-in"), twice.toString());
    }

    @Test
    void errors() throws Exception {
        Jdk jdk = Jdk.JDK17;
        DoctorIT.Run none = cli(jdk, "enable", "nope", "--root", root.toString());
        assertEquals(1, none.exit, none.toString());
        assertTrue(none.output.contains("no such unit: nope.service (no unit file in " + root.resolve("etc/systemd/system")),
                none.toString());

        write("etc/systemd/system/demo.service", UNIT);
        DoctorIT.Run bad = cli(jdk, "enable", "demo", "mode=sideways", "--root", root.toString());
        assertEquals(2, bad.exit, bad.toString());
        assertTrue(bad.output.contains("invalid value 'sideways' for option 'mode' in agent arguments; allowed: all|server|client"),
                bad.toString());
        DoctorIT.Run socket = cli(jdk, "enable", "demo.socket", "--root", root.toString());
        assertEquals(2, socket.exit, socket.toString());

        write("etc/systemd/system/script.service", "[Service]\nExecStart=/opt/app/bin/run.sh\n");
        DoctorIT.Run script = cli(jdk, "enable", "script", "--root", root.toString(), "--jar", "/opt/mptcp-agent.jar");
        assertEquals(0, script.exit, script.toString());
        assertTrue(script.output.contains("WARNING: ExecStart of script.service runs /opt/app/bin/run.sh, not java"), script.toString());

        write("etc/default/envd", "JAVA_TOOL_OPTIONS=-Xmx1g\n");
        write("etc/systemd/system/envd.service", "[Service]\nEnvironmentFile=-/etc/default/envd\nExecStart=/usr/bin/java -jar x\n");
        DoctorIT.Run envFile = cli(jdk, "enable", "envd", "--root", root.toString(), "--jar", "/opt/mptcp-agent.jar");
        assertEquals(1, envFile.exit, envFile.toString());
        assertTrue(envFile.output.contains("sets JAVA_TOOL_OPTIONS in EnvironmentFile /etc/default/envd, which overrides"
                + " Environment=; no drop-in written"), envFile.toString());
        assertFalse(Files.exists(root.resolve("etc/systemd/system/envd.service.d")));

        write("etc/systemd/system/has.service", "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-javaagent:/opt/mptcp-agent.jar\n"
                + "ExecStart=/usr/bin/java -jar x\n");
        DoctorIT.Run has = cli(jdk, "enable", "has", "--root", root.toString(), "--jar", "/opt/mptcp-agent.jar");
        assertEquals(0, has.exit, has.toString());
        assertTrue(has.output.contains("already loads mptcp-agent"), has.toString());
        assertFalse(Files.exists(root.resolve("etc/systemd/system/has.service.d")));
    }
}
