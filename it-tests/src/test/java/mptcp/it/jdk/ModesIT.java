package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * mode=server converts listeners only (a TCP client then gets a TCP accepted socket from the MPTCP listener),
 * mode=client converts outgoing sockets only, enabled=false nothing. One JVM holds both ends; read from the kernel.
 */
class ModesIT {

    private static List<Ss.Entry> run(Jdk jdk, List<String> jvmArgs, Map<String, String> env) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, jvmArgs, env, "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK socket"), app.output());
            return Ss.sockets(app.pid());
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void serverMode(Jdk jdk) throws Exception {
        assertServerMode(run(jdk, List.of(ChildJvm.loopbackAgentArg("mode=server")), Map.of()), "mode=server");
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void clientMode(Jdk jdk) throws Exception {
        assertClientMode(run(jdk, List.of(ChildJvm.loopbackAgentArg("mode=client")), Map.of()), "mode=client");
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void disabledConvertsNothing(Jdk jdk) throws Exception {
        List<Ss.Entry> s = run(jdk, List.of(ChildJvm.loopbackAgentArg("enabled=false")), Map.of());
        assertEquals(0, s.stream().filter(e -> e.protocol.equals("mptcp")).count(), s.toString());
        assertEquals(1, Ss.count(s, "tcp", "LISTEN"), s.toString());
    }

    /**
     * Precedence: agent arguments > -Dmptcp.agent.* > MPTCP_AGENT_*. Each run checks both sides of the mode it should
     * get (what is converted and what is not), so a run where the agent never installed, or took the mode from the
     * wrong source, fails.
     */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void optionSourcesAndPrecedence(Jdk jdk) throws Exception {
        assertServerMode(run(jdk, List.of(ChildJvm.loopbackAgentArg("")), Map.of("MPTCP_AGENT_MODE", "server")),
                "environment mode=server");
        assertClientMode(run(jdk, List.of("-Dmptcp.agent.mode=client", ChildJvm.loopbackAgentArg("")), Map.of("MPTCP_AGENT_MODE", "server")),
                "property mode=client beats environment mode=server");
        assertServerMode(run(jdk, List.of("-Dmptcp.agent.mode=client", ChildJvm.loopbackAgentArg("mode=server")), Map.of()),
                "agent argument mode=server beats property mode=client");
        List<Ss.Entry> off = run(jdk, List.of(ChildJvm.loopbackAgentArg("")), Map.of("MPTCP_AGENT_ENABLED", "false"));
        assertEquals(0, off.stream().filter(e -> e.protocol.equals("mptcp")).count(), "environment enabled=false: " + off);
        assertEquals(1, Ss.count(off, "tcp", "LISTEN"), "environment enabled=false: " + off);
        assertEquals(2, Ss.count(off, "tcp", "ESTAB"), "environment enabled=false: " + off);
        assertBothMptcp(run(jdk, List.of("-Dmptcp.agent.enabled=true", ChildJvm.loopbackAgentArg("")), Map.of("MPTCP_AGENT_ENABLED", "false")),
                "property enabled=true beats environment enabled=false");
    }

    /** mode=server: the listener is MPTCP, the client TCP, so both ends of the connection are TCP. */
    private static void assertServerMode(List<Ss.Entry> s, String what) {
        assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), what + ": " + s);
        assertEquals(0, Ss.count(s, "tcp", "LISTEN"), what + ": " + s);
        assertEquals(0, Ss.count(s, "mptcp", "ESTAB"), what + ": " + s);
        assertEquals(2, Ss.count(s, "tcp", "ESTAB"), what + ": " + s);
    }

    /** mode=client: the listener is TCP, the client MPTCP (fallen back), the accepted socket TCP. */
    private static void assertClientMode(List<Ss.Entry> s, String what) {
        assertEquals(1, Ss.count(s, "tcp", "LISTEN"), what + ": " + s);
        assertEquals(0, Ss.count(s, "mptcp", "LISTEN"), what + ": " + s);
        assertEquals(1, Ss.count(s, "mptcp", "ESTAB"), what + ": " + s);
        assertEquals(1, Ss.count(s, "tcp", "ESTAB"), what + ": " + s);
    }

    private static void assertBothMptcp(List<Ss.Entry> s, String what) {
        assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), what + ": " + s);
        assertEquals(2, Ss.count(s, "mptcp", "ESTAB"), what + ": " + s);
        assertEquals(0, s.stream().filter(e -> e.protocol.equals("tcp")).count(), what + ": " + s);
    }
}
