package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad options: one clear line naming what was wrong and what is allowed; the agent stays out; the app runs. */
class OptionsIT {

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(List.of(ChildJvm.loopbackAgentArg("mode=both")), Map.of(),
                        "mptcp-agent: ERROR: invalid value 'both' for option 'mode' in agent arguments; allowed: all|server|client"),
                Arguments.of(List.of(ChildJvm.loopbackAgentArg("colour=blue")), Map.of(),
                        "mptcp-agent: ERROR: unknown option 'colour' in agent arguments; known options: enabled, mode, fallback, log"),
                Arguments.of(List.of(ChildJvm.loopbackAgentArg("mode")), Map.of(),
                        "mptcp-agent: ERROR: invalid option 'mode' in agent arguments: expected key=value"),
                Arguments.of(List.of(ChildJvm.loopbackAgentArg("log=loud")), Map.of(),
                        "mptcp-agent: ERROR: invalid value 'loud' for option 'log' in agent arguments; allowed: warn|off|error|info|debug"),
                Arguments.of(List.of("-Dmptcp.agent.fallback=maybe", ChildJvm.loopbackAgentArg("")), Map.of(),
                        "mptcp-agent: ERROR: invalid value 'maybe' for option 'fallback' in system property mptcp.agent.fallback; allowed: tcp|fail"),
                Arguments.of(List.of("-Dmptcp.agent.mdoe=server", ChildJvm.loopbackAgentArg("")), Map.of(),
                        "mptcp-agent: ERROR: unknown option 'mdoe' in system property mptcp.agent.mdoe"),
                Arguments.of(List.of(ChildJvm.loopbackAgentArg("")), Map.of("MPTCP_AGENT_ENABLED", "yes"),
                        "mptcp-agent: ERROR: invalid value 'yes' for option 'enabled' in environment variable MPTCP_AGENT_ENABLED; allowed: true|false"));
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void badOptionGivesOneLineAndAppRunsOnTcp(List<String> jvmArgs, Map<String, String> env, String message) throws Exception {
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, jvmArgs, env, "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().contains("OK socket"), app.output());
            assertEquals(0, Ss.sockets(app.pid()).stream().filter(e -> e.protocol.equals("mptcp")).count());
            app.finish();
            List<String> agent = app.agentLines();
            assertEquals(1, agent.size(), app.output());
            assertTrue(agent.get(0).startsWith(message), agent.get(0));
            assertTrue(agent.get(0).endsWith("the agent is not installed, the application continues without MPTCP"), agent.get(0));
        }
    }
}
