package mptcp.it.listeners;

import mptcp.it.*;

import static mptcp.it.listeners.ListenersIT.CLIENT;
import static mptcp.it.listeners.ListenersIT.SERVER;
import static mptcp.it.listeners.ListenersIT.attempted;
import static mptcp.it.listeners.ListenersIT.count;
import static mptcp.it.listeners.ListenersIT.grep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The run-time off switch and its way back (issue 20): {@code attach <pid> enabled=false} hands every MPTCP listener
 * of a serving JVM back to a TCP listener under the same fd, {@code enabled=true} converts it again, while a TCP client
 * JVM and an MPTCP client JVM in another namespace keep opening fresh connections: none may fail. Servers of every
 * accept model, made MPTCP by {@code -javaagent} at their start or by an earlier attach. Checked from the kernel in the
 * server's namespace ({@code ss}): the listener's protocol after each step, that a fresh MPTCP client is accepted as
 * TCP while switched off and as MPTCP after, that connections opened before are still answered (the MPTCP one still
 * MPTCP), and that nothing is left joinable.
 */
class RollbackIT {

    static Stream<Arguments> servers() {
        return Stream.of(
                Arguments.of(Jdk.JDK17, "socket", true, 0),
                Arguments.of(Jdk.JDK17, "selector", false, 0),
                Arguments.of(Jdk.JDK17, "httpserver", true, 1),
                Arguments.of(Jdk.JDK17, "jetty", false, 0),
                Arguments.of(Jdk.JDK17, "netty-epoll", true, 0),
                Arguments.of(Jdk.JDK25, "socket", false, 1),
                Arguments.of(Jdk.JDK25, "async", false, 0),
                Arguments.of(Jdk.JDK25, "tomcat", true, 0),
                Arguments.of(Jdk.JDK25, "netty-epoll", false, 0),
                Arguments.of(Jdk.JDK25, "vthread", true, 0));
    }

    @ParameterizedTest(name = "{0} {1} javaagent={2} tcp_migrate_req={3}")
    @MethodSource("servers")
    void offAndOnAgainUnderLoad(Jdk jdk, String model, boolean javaagent, int migrate) throws Exception {
        try (ListenersIT.Bed bed = new ListenersIT.Bed(migrate);
             ChildJvm server = bed.server(jdk, javaagent ? List.of(ChildJvm.agentArg("")) : List.of(), model, SERVER, "8080")) {
            server.expect("READY");
            String pid = String.valueOf(server.pid());
            try (ChildJvm tcpHeld = bed.client(jdk, false, "hold", SERVER, "8080");
                 ChildJvm tcpLoad = bed.client(jdk, false, "load", SERVER, "8080", "2", "1", "60");
                 ChildJvm mptcpLoad = bed.client(jdk, true, "load", SERVER, "8080", "2", "1", "60")) {
                assertEquals("HELD ok", tcpHeld.expect("HELD"), tcpHeld.output());
                tcpLoad.expect("RUNNING");
                mptcpLoad.expect("RUNNING");
                List<AgentCli> steps = new ArrayList<>();
                if (!javaagent) {
                    AgentCli attach = AgentCli.run(jdk, "attach", pid);
                    steps.add(attach);
                    assertEquals(0, attach.exit, attach.toString());
                    assertTrue(attach.output.contains("): converted to MPTCP in "), attach.toString());
                }
                assertEquals(1, count(listening(bed), "mptcp"), listening(bed));
                // held MPTCP client connections: one opened while on, one while off, one after (LoadClient hold, more)
                try (ChildJvm mptcpHeld = bed.client(jdk, true, "hold", SERVER, "8080")) {
                    assertEquals("mptcp", accepted(bed, server, mptcpHeld), "accepted as MPTCP while on");
                    Thread.sleep(200);

                    AgentCli off = AgentCli.run(jdk, "attach", pid, "enabled=false");
                    steps.add(off);
                    assertEquals(0, off.exit, off.toString());
                    assertTrue(off.output.contains("switched off") && off.output.matches("(?s).*listener "
                            + SERVER.replace(".", "\\.") + ":8080 \\(fd \\d+\\): handed back to TCP \\(enabled=false\\) in .*"),
                            off.toString());
                    String l = listening(bed);
                    assertEquals(0, count(l, "mptcp"), "no MPTCP listener left on the port:\n" + l);
                    assertEquals(1, count(l, "tcp"), "one TCP listener:\n" + l);
                    assertTrue(bed.probe(jdk, SERVER, "8080").startsWith("BIND refused"), "nothing left joinable");
                    mptcpHeld.send("more"); // the MPTCP client's next connection: plain TCP now (its socket falls back)
                    assertEquals("tcp", accepted(bed, server, mptcpHeld), "an MPTCP client accepted as plain TCP while off");
                    for (ChildJvm held : List.of(tcpHeld, mptcpHeld)) {
                        held.send("again");
                        assertEquals("AGAIN ok", held.expect("AGAIN"), "connections opened before still answered");
                    }
                    Thread.sleep(200);

                    AgentCli on = AgentCli.run(jdk, "attach", pid, "enabled=true");
                    steps.add(on);
                    assertEquals(0, on.exit, on.toString());
                    assertTrue(on.output.contains("switched on again") && on.output.contains("): converted to MPTCP in "),
                            on.toString());
                    l = listening(bed);
                    assertEquals(1, count(l, "mptcp"), "MPTCP again:\n" + l);
                    assertEquals(1, count(l, "tcp"), "no TCP listener besides the MPTCP listener's own subflow:\n" + l);
                    mptcpHeld.send("more");
                    assertEquals("mptcp", accepted(bed, server, mptcpHeld), "accepted as MPTCP again");
                    Thread.sleep(200);
                    tcpLoad.send("stop");
                    mptcpLoad.send("stop");
                    for (ChildJvm load : List.of(tcpLoad, mptcpLoad)) {
                        String result = load.expect("RESULT");
                        System.out.println("RollbackIT " + jdk + " " + model + " javaagent=" + javaagent + " tcp_migrate_req="
                                + migrate + " " + (load == tcpLoad ? "tcp  " : "mptcp") + " client: " + result + " | "
                                + handOvers(steps));
                        assertTrue(result.contains(" failed=0 "), result + "\n" + steps + "\n" + server.output());
                        assertTrue(attempted(result) >= 50, "too little load to prove anything: " + result);
                    }
                    for (ChildJvm held : List.of(tcpHeld, mptcpHeld)) {
                        held.send("again");
                        assertEquals("AGAIN ok", held.expect("AGAIN"), "every connection held, at the end");
                    }
                    List<Ss.Entry> s = Ss.sockets(server.pid(), bed.server.name);
                    assertEquals(2, s.stream().filter(e -> e.protocol.equals("mptcp") && e.state.equals("ESTAB")).count(),
                            "the MPTCP connections opened while on are still MPTCP: " + s);
                    AgentCli status = AgentCli.run(jdk, "status", pid);
                    assertTrue(status.output.contains("config: enabled=true,") && status.output.contains(
                            "config_changed_by: attach, uid 0") && status.output.contains("listeners_handed_back: 1"),
                            status.toString());
                    mptcpHeld.send("bye");
                }
                tcpHeld.send("bye");
            }
        }
    }

    /**
     * A hand-back that fails rolls back: the MPTCP listener whose address is gone (the new TCP socket's bind gets
     * EADDRNOTAVAIL) keeps serving as MPTCP and the line says why; the other listener of the JVM is handed back.
     */
    @Test
    void aFailedHandBackKeepsTheMptcpListenerServing() throws Exception {
        Jdk jdk = Jdk.JDK25;
        try (ListenersIT.Bed bed = new ListenersIT.Bed(0)) {
            bed.server.exec("ip", "addr", "add", ListenersIT.SPARE + "/24", "dev", "vs");
            try (ChildJvm server = bed.server(jdk, List.of(ChildJvm.agentArg("")), "selector", SERVER, "8080",
                    ListenersIT.SPARE, "8081")) {
                server.expect("READY");
                bed.server.exec("ip", "addr", "del", ListenersIT.SPARE + "/24", "dev", "vs");
                AgentCli off = AgentCli.run(jdk, "attach", String.valueOf(server.pid()), "enabled=false");
                assertEquals(0, off.exit, off.toString());
                assertTrue(off.output.contains("listener " + SERVER + ":8080 (fd ") && off.output.contains(
                        "handed back to TCP (enabled=false)"), off.toString());
                assertTrue(off.output.contains("listener " + ListenersIT.SPARE + ":8081 (fd ") && off.output.contains(
                        "stays MPTCP although enabled=false wants TCP: binding a TCP socket to " + ListenersIT.SPARE
                        + ":8081 failed: EADDRNOTAVAIL"), off.toString());
                bed.server.exec("ip", "addr", "add", ListenersIT.SPARE + "/24", "dev", "vs");
                String l = listening(bed);
                assertEquals(1, count(grep(l, ":8081 "), "mptcp"), l);
                assertEquals(0, count(grep(l, ":8080 "), "mptcp"), l);
                try (ChildJvm c = bed.client(jdk, true, "hold", ListenersIT.SPARE, "8081")) {
                    assertEquals("mptcp", accepted(bed, server, c), "the MPTCP listener left as it was still serves");
                    c.send("bye");
                }
                AgentCli status = AgentCli.run(jdk, "status", String.valueOf(server.pid()));
                assertTrue(status.output.contains("listeners_handed_back: 1") && status.output.contains(
                        "listeners_kept_mptcp: 1"), status.toString());
            }
        }
    }

    /**
     * A {@code tcp bind} rule given at run time hands the one listener it names back to TCP, the other stays MPTCP;
     * {@code mode=client} hands back the other one too; {@code mode=all} with the rule removed converts both again. A
     * log level given at run time takes effect at once. Under load on both listeners, nothing fails.
     */
    @Test
    void rulesModeAndLogAtRunTime() throws Exception {
        Jdk jdk = Jdk.JDK17;
        try (ListenersIT.Bed bed = new ListenersIT.Bed(0);
             ChildJvm server = bed.server(jdk, List.of(ChildJvm.agentArg("")), "selector", SERVER, "8080", SERVER, "8081")) {
            server.expect("READY");
            String pid = String.valueOf(server.pid());
            try (ChildJvm load80 = bed.client(jdk, true, "load", SERVER, "8080", "2", "1", "60");
                 ChildJvm load81 = bed.client(jdk, false, "load", SERVER, "8081", "2", "1", "60")) {
                load80.expect("RUNNING");
                load81.expect("RUNNING");
                AgentCli rule = AgentCli.run(jdk, "attach", pid, "rules=tcp bind * 8081");
                assertEquals(0, rule.exit, rule.toString());
                assertTrue(rule.output.contains(":8081 (fd ") && rule.output.contains(
                        "handed back to TCP (rule 'tcp bind * 8081' (attach, uid 0, rule 1)) in "), rule.toString());
                assertTrue(!rule.output.contains(":8080 (fd "), "8080 is not affected: no line\n" + rule);
                assertEquals(0, count(grep(listening(bed), ":8081 "), "mptcp"), listening(bed));
                assertEquals(1, count(grep(listening(bed), ":8080 "), "mptcp"), listening(bed));

                AgentCli client = AgentCli.run(jdk, "attach", pid, "mode=client");
                assertEquals(0, client.exit, client.toString());
                assertTrue(client.output.contains(":8080 (fd ") && client.output.contains(
                        "handed back to TCP (mode=client converts no listener) in "), client.toString());
                assertEquals(0, count(listening(bed), "mptcp"), listening(bed));

                AgentCli debug = AgentCli.run(jdk, "attach", pid, "mode=all,rules=,log=debug");
                assertEquals(0, debug.exit, debug.toString());
                assertEquals(2, debug.output.split("converted to MPTCP in ", -1).length - 1, debug.toString());
                assertEquals(2, count(listening(bed), "mptcp"), listening(bed));
                long end = System.nanoTime() + 10_000_000_000L;
                while (server.stderrLines().stream().noneMatch(x -> x.contains("DEBUG:") && x.contains("MPTCP negotiated"))
                        && System.nanoTime() < end) {
                    Thread.sleep(50);
                }
                assertTrue(server.stderrLines().stream().anyMatch(x -> x.contains("DEBUG:") && x.contains("MPTCP negotiated")),
                        "log=debug took effect at run time:\n" + server.output());
                load80.send("stop");
                load81.send("stop");
                for (ChildJvm load : List.of(load80, load81)) {
                    String result = load.expect("RESULT");
                    assertTrue(result.contains(" failed=0 "), result + "\n" + rule + client + debug);
                }
            }
        }
    }

    /**
     * The process stopped (SIGSTOP) for longer than the drain bound while the hand-over waits for the application to
     * accept what is queued on the old listener, then continued (issue 21, 8d): the time it did not run does not
     * count, the application accepts the queued connections once it runs again, none is reset, and the line says what
     * happened instead of blaming the application.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Jdk.class)
    void stoppedDuringTheHandOver(Jdk jdk) throws Exception {
        try (ListenersIT.Bed bed = new ListenersIT.Bed(0); ChildJvm server = bed.server(jdk, "socket", SERVER, "8080")) {
            server.expect("READY");
            server.send("pause");
            server.expect("PAUSED");
            try (ChildJvm last = bed.client(jdk, false, "hold", SERVER, "8080")) {
                assertEquals("HELD ok", last.expect("HELD"), last.output()); // the accept under way: now it waits
                List<ChildJvm> queued = new ArrayList<>();
                try {
                    for (int i = 0; i < 3; i++) {
                        ChildJvm c = bed.client(jdk, false, "late", SERVER, "8080");
                        queued.add(c);
                        c.expect("CONNECTED"); // in the listener's accept queue: the application accepts nothing now
                    }
                    java.util.concurrent.CompletableFuture<AgentCli> attach = AgentCli.async(jdk, "attach", String.valueOf(server.pid()));
                    bed.awaitMptcpListener();
                    Proc.check(List.of("kill", "-STOP", String.valueOf(server.pid()))); // steered, draining: stopped
                    Thread.sleep(6_000); // longer than the drain bound (5 s)
                    Proc.check(List.of("kill", "-CONT", String.valueOf(server.pid())));
                    server.send("resume");
                    AgentCli done = attach.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    assertEquals(0, done.exit, done.toString());
                    assertTrue(done.output.contains("converted to MPTCP in ") && done.output.contains("did not run for ")
                            && !done.output.contains("reset") && !done.output.contains("accepted nothing"), done.toString());
                    for (ChildJvm c : queued) {
                        c.send("go");
                        assertEquals("LATE ok", c.expect("LATE"), done + "\n" + c.output());
                    }
                } finally {
                    queued.forEach(ChildJvm::close);
                }
                last.send("bye");
            }
        }
    }

    /** {@code ss -Mltn} in the server's namespace: its MPTCP and TCP listeners, one line each. */
    private static String listening(ListenersIT.Bed bed) throws Exception {
        return bed.server.exec("ss", "-H", "-Mltn");
    }

    /**
     * The protocol ("mptcp" or "tcp") of the server's ESTAB socket for the connection {@code client} just held (its
     * last {@code LOCAL <port>} line; waits for its {@code HELD ok}).
     */
    private static String accepted(ListenersIT.Bed bed, ChildJvm server, ChildJvm client) throws Exception {
        int port = Integer.parseInt(client.expect("LOCAL ").substring(6));
        assertEquals("HELD ok", client.expect("HELD"), client.output());
        List<Ss.Entry> s = Ss.sockets(server.pid(), bed.server.name);
        return s.stream().filter(e -> e.state.equals("ESTAB") && e.peer.endsWith(":" + port) && e.peer.contains(CLIENT))
                .map(e -> e.protocol).findFirst().orElse("none: " + s);
    }

    private static String handOvers(List<AgentCli> steps) {
        StringBuilder b = new StringBuilder();
        for (AgentCli s : steps) {
            s.output.lines().filter(l -> l.startsWith("listener ")).forEach(l -> b.append(l.replaceFirst(
                    "^listener .*? \\(fd \\d+\\): ", "")).append("; "));
        }
        return b.toString();
    }
}
