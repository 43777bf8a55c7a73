package mptcp.it.ops;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 21, item 6: the smallest runtime the agent supports, {@code jlink --add-modules java.base,java.instrument}
 * (a common container image), made from JDK 17 (its jmods) and from JDK 25 (Temurin 25 ships no jmods: jlink links
 * from its run-time image). The agent's sockets are MPTCP there (read from the kernel); there is no
 * {@code java.management}, so no JMX: nothing on the application's stderr but the agent's own lines (before the fix
 * the JMX watcher died 2 s in with {@code NoClassDefFoundError: javax/management/DynamicMBean} and its stack trace),
 * and {@code status} says {@code jmx: unavailable (no java.management module in this runtime)}.
 */
class JlinkIT {
    @TempDir
    Path dir;

    private Path jlink(Jdk jdk, String modules) throws Exception {
        Path image = dir.resolve("jre-" + jdk.feature);
        Proc p = Proc.run(List.of(jdk.tool("jlink"), "--add-modules", modules, "--strip-debug", "--no-header-files",
                "--no-man-pages", "--output", image.toString()), Map.of(), 120);
        assertEquals(0, p.exit, p.toString());
        Proc list = Proc.run(List.of(image.resolve("bin/java").toString(), "--list-modules"), Map.of(), 60);
        List<String> names = new ArrayList<>();
        for (String line : list.output.split("\n")) {
            if (!line.isBlank()) {
                names.add(line.split("@")[0].trim());
            }
        }
        assertEquals(List.of(modules.split(",")), names, list.output);
        return image;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void javaBaseAndJavaInstrumentOnlyMptcpAndNoJmx(Jdk jdk) throws Exception {
        Path image = jlink(jdk, "java.base,java.instrument");
        try (ChildJvm app = ChildJvm.command(List.of(image.resolve("bin/java").toString(),
                ChildJvm.loopbackAgentArg("log=debug"), "-cp", ChildJvm.CLASSPATH, "mptcp.it.apps.Launch",
                "mptcp.it.apps.BaseApp"), Map.of())) {
            assertTrue(app.expect("JVM ").startsWith("JVM " + jdk.feature + " "), app.output());
            app.expect("STARTED");
            app.send("socket");
            app.expect("PAIR ");
            app.send("channel");
            app.expect("PAIR ");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(2, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            assertEquals(4, Ss.count(s, "mptcp", "ESTAB"), s.toString());
            assertEquals(0, Ss.count(s, "tcp", "ESTAB") + Ss.count(s, "tcp", "LISTEN"), s.toString());

            // the JMX watcher's one look (2 s after start): it finds no java.management and ends without a word
            String jmx = stderr(app, l -> l.contains("JMX unavailable") || l.contains("Exception") || l.contains("Error:"));
            assertEquals("mptcp-agent: DEBUG: JMX unavailable (no java.management module in this runtime): no MBean", jmx,
                    app.output());
            AgentCli status = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
            assertEquals(0, status.exit, status.toString());
            assertTrue(status.output.contains("\njmx: unavailable (no java.management module in this runtime)\n"),
                    status.toString());
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            for (String line : app.stderrLines()) {
                assertTrue(line.startsWith("mptcp-agent: ") || line.startsWith("WARNING: "), "only the agent's lines"
                        + " (and JDK 25's dynamic-agent warning of status) on stderr:" + app.output());
            }
        }
    }

    /** The first stderr line matching {@code p}, waiting up to 20 s for it. */
    private static String stderr(ChildJvm app, java.util.function.Predicate<String> p) throws InterruptedException {
        long end = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() - end < 0) {
            for (String l : app.stderrLines()) {
                if (p.test(l)) {
                    return l;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no such stderr line within 20 s" + app);
    }
}
