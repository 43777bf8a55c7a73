package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 21, items 2 and 4: what a careless operator (or an attacker choosing the value) gives the agent never hangs,
 * kills nor floods the application or the CLI.
 * <ul>
 *   <li>{@code rules=@FIFO} and {@code rules=@/dev/zero}: one ERROR line at JVM start, the application runs (it used to
 *       hang the start, and /dev/zero grew the heap to an OutOfMemoryError); the same through {@code attach <pid>},
 *       which checks the options in the CLI first: one line, exit 1 (it used to hang the CLI).</li>
 *   <li>A file that is no rules file (a shadow-like line) and a value full of terminal escapes: the ERROR line names
 *       the place, shows an escaped excerpt of at most 80 characters and nothing else of what was read.</li>
 * </ul>
 */
class BadInputIT {
    @TempDir
    Path dir;

    private static ChildJvm app(Jdk jdk, String agentOptions, Map<String, String> env) throws Exception {
        List<String> jvm = agentOptions == null ? List.of() : List.of(ChildJvm.agentArg(agentOptions));
        ChildJvm app = ChildJvm.java(jdk, jvm, env, "mptcp.it.apps.BaseApp");
        app.expect("STARTED");
        app.send("socket");
        assertTrue(app.expect("PAIR ").matches("PAIR \\d+"), app.output());
        return app;
    }

    /** The agent's one line after the application ran and exited 0; every stderr line printable ASCII. */
    private static String onlyLine(ChildJvm app) throws Exception {
        app.send("exit");
        assertEquals(0, app.waitFor(), app.output());
        for (String l : app.stderrLines()) {
            assertTrue(l.chars().allMatch(c -> c >= 0x20 && c < 0x7f), "escaped: " + l);
        }
        assertEquals(1, app.stderrLines().size(), app.output());
        return app.stderrLines().get(0);
    }

    private Path fifo() throws Exception {
        Path fifo = dir.resolve("rules.fifo");
        assertEquals(0, Proc.run(List.of("mkfifo", fifo.toString()), Map.of(), 30).exit);
        return fifo;
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void specialFilesAsRulesAreOneErrorAtStart(Jdk jdk) throws Exception {
        Path fifo = fifo();
        try (ChildJvm app = app(jdk, "rules=@" + fifo, Map.of())) {
            assertEquals("mptcp-agent: ERROR: cannot read the rules file '" + fifo + "' (rules=@FILE in agent arguments):"
                    + " it is a FIFO (named pipe); only a regular file is read; the agent is not installed, the"
                    + " application continues without MPTCP", onlyLine(app));
        }
        try (ChildJvm app = app(jdk, "rules=@/dev/zero", Map.of())) {
            assertTrue(onlyLine(app).startsWith("mptcp-agent: ERROR: cannot read the rules file '/dev/zero' (rules=@FILE in"
                    + " agent arguments): it is a character device; only a regular file is read;"), app.output());
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void specialFilesAsRulesAreOneErrorInTheCli(Jdk jdk) throws Exception {
        Path fifo = fifo();
        try (ChildJvm app = app(jdk, null, Map.of())) {
            for (String file : new String[] {fifo.toString(), "/dev/zero"}) {
                AgentCli attach = AgentCli.run(jdk, "attach", String.valueOf(app.pid()), "rules=@" + file);
                assertNotEquals(0, attach.exit, attach.toString());
                assertTrue(attach.output.contains("cannot read the rules file '" + file + "' (rules=@FILE in agent"
                        + " arguments): it is a "), attach.toString());
                assertFalse(attach.output.contains("\tat ") || attach.output.contains("Exception"), attach.toString());
            }
            app.send("exit");
            assertEquals(0, app.waitFor(), app.output());
            assertEquals(List.of(), app.stderrLines(), "nothing reached the application");
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void errorLinesShowAShortEscapedExcerptOnly(Jdk jdk) throws Exception {
        String secret = "root:$y$j9T$SaltSaltSaltSaltSalt$HashHashHashHashHashHashHashHashHashHashHashHashHash0123:"
                + "19000:0:99999:7:::";
        Path shadow = dir.resolve("shadow");
        Files.write(shadow, List.of("# looks like a rules file", secret + "\u001b[2J\r", "daemon:*:19000::::::"),
                StandardCharsets.UTF_8);
        try (ChildJvm app = app(jdk, "rules=@" + shadow, Map.of())) {
            String line = onlyLine(app);
            assertTrue(line.startsWith("mptcp-agent: ERROR: invalid rule (" + shadow + ":2, column 1): unknown action"
                    + " 'root:$y$j9T$S...' (" + (secret.length() + 4) + " characters) (tcp or mptcp); a rule is "), line);
            assertFalse(line.contains("Salt") || line.contains("Hash") || line.contains("daemon"), line);
        }
        String value = "\u001b]0;owned\u0007\r\nmptcp-agent: INFO: all fine " + "x".repeat(100_000);
        try (ChildJvm app = app(jdk, "", Map.of("MPTCP_AGENT_MODE", value))) {
            String line = onlyLine(app);
            assertEquals("mptcp-agent: ERROR: invalid value '\\x1b]0;owned\\x07\\r\\nmptcp-agent: INFO: all fine"
                    + " " + "x".repeat(29) + "...' (" + value.length() + " characters) for option 'mode' in"
                    + " environment variable MPTCP_AGENT_MODE; allowed: all|server|client; the agent is not installed, the"
                    + " application continues without MPTCP", line);
        }
    }
}
