package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * In a fresh network namespace with net.mptcp.enabled=0 the kernel refuses MPTCP sockets (ENOPROTOOPT): the app
 * still exchanges data, over TCP, and the agent says so in exactly one WARN line; with fallback=fail creation throws.
 */
class FallbackIT {

    private static ChildJvm app(Netns ns, Jdk jdk, String options, String... apis) throws Exception {
        return ChildJvm.javaIn(ns, jdk, List.of(ChildJvm.loopbackAgentArg(options)), "mptcp.it.apps.SocketApp", apis);
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void mptcpDisabledFallsBackToTcpWithOneWarning(Jdk jdk) throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            try (ChildJvm app = app(ns, jdk, "", "socket", "channel", "async", "http")) {
                app.expect("READY");
                assertTrue(app.stdoutLines().containsAll(List.of("OK socket", "OK channel", "OK async", "OK http")), app.output());
                List<Ss.Entry> s = Ss.sockets(app.pid(), ns.name);
                assertEquals(0, s.stream().filter(e -> e.protocol.equals("mptcp")).count(), s.toString());
                assertEquals(4, Ss.count(s, "tcp", "LISTEN"), s.toString());
                app.finish();
                List<String> agent = app.agentLines();
                assertEquals(1, agent.size(), app.output());
                assertTrue(agent.get(0).startsWith("mptcp-agent: WARN: ") && agent.get(0).contains("ENOPROTOOPT")
                        && agent.get(0).contains("net.mptcp.enabled=1"), agent.get(0));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void fallbackFailThrowsSocketException(Jdk jdk) throws Exception {
        try (Netns ns = new Netns()) {
            ns.exec("sysctl", "-qw", "net.mptcp.enabled=0");
            try (ChildJvm app = app(ns, jdk, "fallback=fail", "socket", "channel")) {
                app.expect("READY");
                List<String> out = app.stdoutLines();
                assertEquals(2, out.stream().filter(l -> l.startsWith("EXCEPTION java.net.SocketException: MPTCP socket refused"
                        + " by the kernel: ENOPROTOOPT")).count(), app.output());
                assertTrue(Ss.sockets(app.pid(), ns.name).isEmpty());
            }
        }
    }
}
