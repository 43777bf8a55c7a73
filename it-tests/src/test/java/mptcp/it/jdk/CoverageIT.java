package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every JDK API that makes TCP sockets, in a child JVM under -javaagent, on JDK 17 and 25: the listener, the client
 * socket and the accepted socket are MPTCP as the kernel reports them (ss, inet_diag), and data flows.
 */
class CoverageIT {

    static Stream<Arguments> apis() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            for (String api : new String[] {"socket", "channel", "channel-inet", "channel-inet6", "async", "http", "urlconnection"}) {
                out.add(Arguments.of(jdk, api, List.of()));
            }
        }
        out.add(Arguments.of(Jdk.JDK25, "virtual", List.of()));
        out.add(Arguments.of(Jdk.JDK17, "socket", List.of("-Djdk.net.usePlainSocketImpl=true")));
        out.add(Arguments.of(Jdk.JDK17, "urlconnection", List.of("-Djdk.net.usePlainSocketImpl=true")));
        out.add(Arguments.of(Jdk.JDK17, "socket", List.of("-Djava.net.preferIPv4Stack=true")));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("apis")
    void everySocketIsMptcp(Jdk jdk, String api, List<String> jvmArgs) throws Exception {
        List<String> args = new ArrayList<>(jvmArgs);
        args.add(ChildJvm.loopbackAgentArg(""));
        try (ChildJvm app = ChildJvm.java(jdk, args, "mptcp.it.apps.SocketApp", api)) {
            app.expect("READY");
            if (jvmArgs.contains("-Djdk.net.usePlainSocketImpl=true")) {
                app.assertLegacySocketImpl();
            }
            List<Ss.Entry> sockets = Ss.sockets(app.pid());
            assertTrue(app.stdoutLines().contains("OK " + api), app.output());
            assertEquals(0, sockets.stream().filter(e -> e.protocol.equals("tcp")).count(), "TCP sockets left: " + sockets + "\n" + app.output());
            assertTrue(Ss.count(sockets, "mptcp", "LISTEN") >= 1, "no MPTCP listener: " + sockets);
            assertTrue(Ss.count(sockets, "mptcp", "ESTAB") >= 2, "no MPTCP connection: " + sockets);
            app.finish();
            assertEquals(List.of(), app.agentLines(), "the agent prints nothing at the default level");
            assertEquals(List.of(), app.stderrLines(), "no JVM warning either (JDK 25: native access, Unsafe)");
        }
    }

    /** The same probe without the agent sees TCP only: the assertion above can fail. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("jdks")
    void withoutAgentEverySocketIsTcp(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), "mptcp.it.apps.SocketApp", "socket", "channel")) {
            app.expect("READY");
            List<Ss.Entry> sockets = Ss.sockets(app.pid());
            assertEquals(0, sockets.stream().filter(e -> e.protocol.equals("mptcp")).count(), sockets.toString());
            assertEquals(2, Ss.count(sockets, "tcp", "LISTEN"), sockets.toString());
            assertEquals(4, Ss.count(sockets, "tcp", "ESTAB"), sockets.toString());
        }
    }

    static Stream<Jdk> jdks() {
        return Stream.of(Jdk.values());
    }
}
