package mptcp.it.fleet;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code status} of a JVM with 20,000 connections (issue 21, item 9): the report is streamed from the agent to the
 * CLI (a UNIX socket the CLI listens on in the target's /tmp), so a CLI limited to a 32 MiB heap prints all of it, as
 * text and as JSON, and the target (64 MiB heap) answers without running out of memory. The connections are TCP on
 * loopback inside a namespace of the test's own (its own port space); the target gets {@code ulimit -n 30000}.
 */
class StatusStreamIT {
    static final int CONNECTIONS = 10_000; // both ends in the target: 20,000 sockets + the listener

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void statusOfTwentyThousandConnectionsInBoundedMemory(Jdk jdk) throws Exception {
        try (Netns ns = new Netns();
                ChildJvm target = ChildJvm.command(ns.wrap(List.of("sh", "-c", "ulimit -n 30000 && exec " + jdk.java()
                        + " -Xmx64m " + ChildJvm.agentArg("") + " -cp " + ChildJvm.CLASSPATH
                        + " mptcp.it.apps.ManyConnections 127.0.0.1 " + CONNECTIONS)), Map.of())) {
            assertEquals("READY " + 2 * CONNECTIONS, target.expect("READY"), target.output());
            long pid = target.pid();
            long rssBefore = rssKb(pid);
            for (boolean json : new boolean[] {false, true}) {
                long start = System.nanoTime();
                Proc status = Proc.run(json
                        ? List.of(jdk.java(), "-Xmx32m", "-jar", ChildJvm.AGENT.toString(), "status", "--json", String.valueOf(pid))
                        : List.of(jdk.java(), "-Xmx32m", "-jar", ChildJvm.AGENT.toString(), "status", String.valueOf(pid)),
                        Map.of(), 120);
                long ms = (System.nanoTime() - start) / 1_000_000;
                String head = status.output.substring(0, Math.min(3000, status.output.length()));
                assertEquals(0, status.exit, "exit " + status.exit + ":\n" + head + "\n...\n"
                        + status.output.substring(Math.max(0, status.output.length() - 3000)));
                long established = status.output.lines().filter(json ? l -> l.contains("\"state\": \"ESTAB\"")
                        : l -> l.startsWith("ESTAB ")).count();
                long listening = status.output.lines().filter(json ? l -> l.contains("\"state\": \"LISTEN\"")
                        : l -> l.startsWith("LISTEN ")).count();
                assertEquals(2 * CONNECTIONS, established, head);
                assertEquals(1, listening, head);
                if (json) {
                    assertTrue(status.output.trim().endsWith("]\n}") || status.output.trim().endsWith("}"), "closed JSON");
                    assertTrue(status.output.startsWith("{\n  \"agent\": \"active\""), head);
                }
                System.out.printf("StatusStreamIT: %s %s: %d sockets in %d ms; target RSS %d -> %d KiB%n", jdk,
                        json ? "--json" : "text", established + listening, ms, rssBefore, rssKb(pid));
            }
            assertTrue(Files.isDirectory(Path.of("/proc/" + pid)), "the target still runs");
            assertTrue(target.stderrLines().stream().noneMatch(l -> l.contains("OutOfMemoryError")), target.output());
        }
    }

    static long rssKb(long pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
