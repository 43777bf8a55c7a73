package mptcp.it;

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
        List<Ss.Entry> s = run(jdk, List.of(ChildJvm.agentArg("mode=server")), Map.of());
        assertEquals(1, Ss.count(s, "mptcp", "LISTEN"), s.toString());
        assertEquals(0, Ss.count(s, "mptcp", "ESTAB"), s.toString());
        assertEquals(2, Ss.count(s, "tcp", "ESTAB"), s.toString());
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void clientMode(Jdk jdk) throws Exception {
        List<Ss.Entry> s = run(jdk, List.of(ChildJvm.agentArg("mode=client")), Map.of());
        assertEquals(1, Ss.count(s, "tcp", "LISTEN"), s.toString());
        assertEquals(1, Ss.count(s, "mptcp", "ESTAB"), s.toString());
        assertEquals(1, Ss.count(s, "tcp", "ESTAB"), s.toString());
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void disabledConvertsNothing(Jdk jdk) throws Exception {
        List<Ss.Entry> s = run(jdk, List.of(ChildJvm.agentArg("enabled=false")), Map.of());
        assertEquals(0, s.stream().filter(e -> e.protocol.equals("mptcp")).count(), s.toString());
        assertEquals(1, Ss.count(s, "tcp", "LISTEN"), s.toString());
    }

    /** Precedence: agent arguments > -Dmptcp.agent.* > MPTCP_AGENT_*. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void optionSourcesAndPrecedence(Jdk jdk) throws Exception {
        List<Ss.Entry> env = run(jdk, List.of(ChildJvm.agentArg("")), Map.of("MPTCP_AGENT_MODE", "server"));
        assertEquals(0, Ss.count(env, "mptcp", "ESTAB"), "environment mode=server: " + env);
        List<Ss.Entry> prop = run(jdk, List.of("-Dmptcp.agent.mode=client", ChildJvm.agentArg("")),
                Map.of("MPTCP_AGENT_MODE", "server"));
        assertEquals(1, Ss.count(prop, "tcp", "LISTEN"), "property beats environment: " + prop);
        List<Ss.Entry> args = run(jdk, List.of("-Dmptcp.agent.mode=client", ChildJvm.agentArg("mode=server")), Map.of());
        assertEquals(1, Ss.count(args, "mptcp", "LISTEN"), "agent arguments beat properties: " + args);
        List<Ss.Entry> off = run(jdk, List.of(ChildJvm.agentArg("")), Map.of("MPTCP_AGENT_ENABLED", "false"));
        assertEquals(0, off.stream().filter(e -> e.protocol.equals("mptcp")).count(), off.toString());
    }
}
