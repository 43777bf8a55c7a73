package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What {@code attach} says about one JVM is what happened there, in that JVM's words (issue 20's run-time changes,
 * issue 21 item 8): a rules file named relative to the command's directory is read by the command (the target's
 * working directory differs); a JVM whose environment switches the agent off says so on the command's output; a second
 * {@code -javaagent} changes nothing, not even the log level; two attaches at once each report what became of their
 * own options; a key read only at start is refused whole; the per-path accounting is switched off and on again at run
 * time, but not on where the agent started without it.
 */
class RuntimeChangesIT {

    /** 8a: {@code rules=@rel.rules} from a directory the target does not run in. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void rulesFileIsReadWhereTheCommandRuns(Jdk jdk) throws Exception {
        Path dir = Files.createTempDirectory("mptcp-rules-cwd");
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), "mptcp.it.apps.SocketApp", "--pre-listener", "socket")) {
            String port = app.expect("PRELISTEN ").split(" ")[1];
            Files.writeString(dir.resolve("rel.rules"), "# written next to the command, not the target\ntcp bind 127.0.0.1 "
                    + port + "\n");
            Proc attach = Proc.run(List.of("env", "-C", dir.toString(), jdk.java(), "-jar", ChildJvm.AGENT.toString(),
                    "attach", String.valueOf(app.pid()), ChildJvm.LOOPBACK_MPTCP + ",rules=@rel.rules"), Map.of(), 60);
            assertEquals(0, attach.exit, attach.toString());
            assertTrue(attach.output.contains("active in JVM " + app.pid()) && attach.output.contains("listener 127.0.0.1:"
                    + port + " (fd ") && attach.output.contains("kept TCP: rule 'tcp bind 127.0.0.1 " + port + "'"),
                    attach.toString());
            AgentCli status = AgentCli.run(jdk, "status", String.valueOf(app.pid()));
            assertTrue(status.output.contains("rule_1: tcp bind 127.0.0.1 " + port), status.toString());
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertTrue(s.stream().anyMatch(e -> e.protocol.equals("tcp") && e.state.equals("LISTEN")
                    && e.localPort() == Integer.parseInt(port)), "the listener the rule names stays TCP: " + s);
        } finally {
            Files.deleteIfExists(dir.resolve("rel.rules"));
            Files.deleteIfExists(dir);
        }
    }

    /** 8a: the target's environment switches the agent off; its reason is printed by the command. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void targetsOwnReasonIsPrinted(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), Map.of("MPTCP_AGENT_ENABLED", "false"), "mptcp.it.apps.SocketApp",
                "--pre-listener", "socket")) {
            app.expect("PRELISTEN ");
            AgentCli refused = AgentCli.run(jdk, "attach", String.valueOf(app.pid()));
            assertEquals(1, refused.exit, refused.toString());
            assertTrue(refused.output.contains("mptcp-agent in JVM " + app.pid() + ": not installed: the environment"
                    + " variable MPTCP_AGENT_ENABLED=false of this JVM switches the agent off; attach with enabled=true to"
                    + " override it"), refused.toString());
            AgentCli forced = AgentCli.run(jdk, "attach", String.valueOf(app.pid()), "enabled=true");
            assertEquals(0, forced.exit, forced.toString());
            assertTrue(forced.output.contains("active in JVM " + app.pid()), forced.toString());
        }
    }

    /** 8b: a second {@code -javaagent} whose options say log=off: the active agent keeps logging at its own level. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void secondJavaagentChangesNothing(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("log=debug"), ChildJvm.agentArg("log=off")),
                "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            app.finish();
            List<String> lines = app.agentLines();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("mptcp-agent: WARN: already active in this JVM")
                    && l.contains("not applied, not even its log level")), app.output());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("mptcp-agent: DEBUG: ") && l.contains("created as MPTCP")),
                    "the active agent still logs at debug after the second -javaagent:\n" + app.output());
        }
    }

    /**
     * 8c: two attaches at once with different options. Each says what became of its own: one installed the agent with
     * its options, the other changed them; status shows the later one. A key read only at start is refused whole; a
     * change to an agent switched off is applied and it stays off.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void concurrentAttachesEachTellTheirOwnOutcome(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), "mptcp.it.apps.SocketApp", "--pre-listener", "socket")) {
            app.expect("PRELISTEN ");
            String pid = String.valueOf(app.pid());
            List<CompletableFuture<AgentCli>> runs = new ArrayList<>();
            for (String mode : List.of("server", "client")) {
                runs.add(AgentCli.async(jdk, "attach", pid, "mode=" + mode));
            }
            AgentCli server = runs.get(0).get(90, TimeUnit.SECONDS);
            AgentCli client = runs.get(1).get(90, TimeUnit.SECONDS);
            assertEquals(0, server.exit, server.toString());
            assertEquals(0, client.exit, client.toString());
            AgentCli first = server.output.contains("active in JVM " + pid) ? server : client;
            AgentCli second = first == server ? client : server;
            String firstMode = first == server ? "server" : "client";
            String secondMode = first == server ? "client" : "server";
            assertTrue(first.output.contains("active in JVM " + pid) && first.output.contains(",mode=" + firstMode + ","),
                    first + "\n" + second);
            assertTrue(second.output.contains("mptcp-agent in JVM " + pid + ": changed (attach, uid ") && second.output
                    .contains("mode=" + secondMode + " (was " + firstMode + ")"), first + "\n" + second);

            AgentCli refused = AgentCli.run(jdk, "attach", pid, "log=debug,cache=off");
            assertEquals(1, refused.exit, refused.toString());
            assertTrue(refused.output.contains("change refused, nothing changed: cache=off cannot be applied at run time"),
                    refused.toString());
            AgentCli status = AgentCli.run(jdk, "status", pid);
            assertTrue(status.output.contains(",mode=" + secondMode + ",") && status.output.contains(",log=warn,")
                    && status.output.contains("config_changed_by: attach, uid "), status.toString());

            // switched off on purpose: a later change applies to the agent that stays off, and says so (exit 0)
            AgentCli off = AgentCli.run(jdk, "attach", pid, "enabled=false");
            assertEquals(0, off.exit, off.toString());
            AgentCli log = AgentCli.run(jdk, "attach", pid, "log=info");
            assertEquals(0, log.exit, log.toString());
            assertTrue(log.output.contains("changed (attach, uid ") && log.output.contains("log=info (was warn); options now"
                    + " enabled=false,"), log.toString());
        }
    }

    /**
     * {@code paths=off} at run time: connections closed from then on add nothing to the per-interface figures (read
     * with {@code status --json}); {@code paths=on} again: they do. A JVM whose agent started with {@code paths=off}
     * does not see sockets close, so there {@code paths=on} is refused whole and nothing is counted.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void accountingIsSwitchedOffAndOnAtRunTimeWhereItStartedOn(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.PeerApp")) {
            app.expect("STARTED");
            String pid = String.valueOf(app.pid());
            app.send("send 100000");
            assertEquals("SENT 100000", app.expect("SENT "));
            long counted = loSent(jdk, pid);
            assertTrue(counted >= 100_000, "one connection's 100000 bytes counted on lo: " + counted);

            AgentCli off = AgentCli.run(jdk, "attach", pid, "paths=off");
            assertEquals(0, off.exit, off.toString());
            assertTrue(off.output.contains("paths=off (was on)"), off.toString());
            app.send("send 100000");
            assertEquals("SENT 100000", app.expect("SENT "));
            assertEquals(counted, loSent(jdk, pid), "with paths=off a new connection adds nothing");

            AgentCli on = AgentCli.run(jdk, "attach", pid, "paths=on");
            assertEquals(0, on.exit, on.toString());
            app.send("send 100000");
            assertEquals("SENT 100000", app.expect("SENT "));
            long again = loSent(jdk, pid);
            assertTrue(again >= counted + 100_000, "on again: the next connection counted: " + counted + " -> " + again);
        }
        try (ChildJvm app = ChildJvm.java(jdk, List.of(ChildJvm.loopbackAgentArg("paths=off")), "mptcp.it.apps.PeerApp")) {
            app.expect("STARTED");
            String pid = String.valueOf(app.pid());
            AgentCli refused = AgentCli.run(jdk, "attach", pid, "paths=on");
            assertEquals(1, refused.exit, refused.toString());
            assertTrue(refused.output.contains("change refused, nothing changed: paths=on cannot be applied at run time"
                    + " here"), refused.toString());
            app.send("send 100000");
            assertEquals("SENT 100000", app.expect("SENT "));
            AgentCli status = AgentCli.run(jdk, "status", pid);
            assertTrue(status.output.contains(",paths=off"), status.toString());
            assertEquals(-1, loSent(jdk, pid), "nothing counted: " + status);
        }
    }

    /** sent_bytes of interface lo in {@code status --json}, -1 when it has no row. */
    private static long loSent(Jdk jdk, String pid) throws Exception {
        AgentCli json = AgentCli.run(jdk, "status", pid, "--json");
        assertEquals(0, json.exit, json.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{\"interface\": \"lo\", \"sent_bytes\": (\\d+), ")
                .matcher(json.output);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
