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
 * {@code status} of a JVM with 19,000 connections (issue 21, item 9): the report is streamed from the agent to the
 * CLI (a UNIX socket the CLI listens on in the target's /tmp), so a CLI limited to a 32 MiB heap prints all of it, as
 * text and as JSON, and the target (64 MiB heap) answers without running out of memory. The connections are MPTCP
 * (loopback=mptcp: each row carries MPTCP_INFO's fields) on loopback inside a namespace of the test's own (its own
 * port space), from two client processes, under this machine's limit of 20,000 open files per process (the target
 * keeps some hundreds for itself and the report).
 */
class StatusStreamIT {
    /** Connections to the target, from two client processes (an fd limit of 20,000 per process here). */
    static final int CONNECTIONS = 19_000;

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void statusOfTwentyThousandConnectionsInBoundedMemory(Jdk jdk) throws Exception {
        try (Netns ns = new Netns();
                ChildJvm target = ChildJvm.command(ns.wrap(List.of(jdk.java(), "-Xmx64m", ChildJvm.loopbackAgentArg(""), "-cp",
                        ChildJvm.CLASSPATH, "mptcp.it.apps.ManyConnections", "serve", "127.0.0.1",
                        String.valueOf(CONNECTIONS))), Map.of())) {
            String port = target.expect("LISTEN ").substring(7);
            try (ChildJvm c1 = client(ns, port, CONNECTIONS / 2); ChildJvm c2 = client(ns, port, CONNECTIONS - CONNECTIONS / 2)) {
                for (ChildJvm c : List.of(c1, c2, target)) { // minutes on a machine shared by six builds
                    c.await(l -> l.startsWith("READY "), 300_000);
                }
                assertTrue(target.stdoutLines().contains("READY " + CONNECTIONS), target.output());
                report(jdk, target.pid());
            }
            assertTrue(Files.isDirectory(Path.of("/proc/" + target.pid())), "the target still runs");
            assertTrue(target.stderrLines().stream().noneMatch(l -> l.contains("OutOfMemoryError")), target.output());
        }
    }

    private static ChildJvm client(Netns ns, String port, int n) throws Exception {
        return ChildJvm.command(ns.wrap(List.of(Jdk.JDK17.java(), "-Xmx64m", ChildJvm.loopbackAgentArg("mode=client"), "-cp", ChildJvm.CLASSPATH,
                "mptcp.it.apps.ManyConnections", "connect", "127.0.0.1", port, String.valueOf(n))), Map.of());
    }

    private static void report(Jdk jdk, long pid) throws Exception {
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
                    && l.contains("\"protocol\": \"mptcp\"") : l -> l.startsWith("ESTAB ") && l.contains(" mptcp ")).count();
            long listening = status.output.lines().filter(json ? l -> l.contains("\"state\": \"LISTEN\"")
                    : l -> l.startsWith("LISTEN ")).count();
            assertEquals(CONNECTIONS, established, head);
            assertEquals(1, listening, head);
            if (json) {
                assertTrue(status.output.startsWith("{\n  \"agent\": \"active\""), head);
                assertTrue(status.output.endsWith("\n  ]\n}\n"), "a closed JSON document");
            }
            System.out.printf("StatusStreamIT: %s %s: %d sockets in %d ms; target RSS %d -> %d KiB%n", jdk,
                    json ? "--json" : "text", established + listening, ms, rssBefore, rssKb(pid));
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
