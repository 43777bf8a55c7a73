package mptcp.it.options;

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
 * sendUrgentData against a real peer (another JVM, reading with SO_OOBINLINE off). On MPTCP the kernel ignores MSG_OOB
 * and would put the urgent byte into the stream, also after a fallback to TCP; the agent must make it a clear
 * SocketException instead, and the peer must receive exactly the normal data. A socket that became TCP (compat
 * conversion) or was never MPTCP sends real urgent data.
 */
class UrgentDataIT {
    private static final String CLEAN = "GOT [97, 98, 99, 100]";
    private static final String REFUSED = "URGENT java.net.SocketException: Urgent data is not supported on a Multipath TCP";

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            // name, server agent options (null: no agent), sender agent options (null: no agent), api, extra, expected
            out.add(Arguments.of(jdk, "tcp both ends (baseline)", null, null, "socket", "", "URGENT ok"));
            out.add(Arguments.of(jdk, "mptcp both ends", "", "", "socket", "", REFUSED));
            out.add(Arguments.of(jdk, "mptcp both ends, channel", "", "", "channel", "", REFUSED));
            out.add(Arguments.of(jdk, "mptcp sender, tcp peer (fallback)", null, "", "socket", "", REFUSED));
            out.add(Arguments.of(jdk, "mptcp both ends, options=strict", "", "options=strict", "socket", "", REFUSED));
            out.add(Arguments.of(jdk, "OOB inline before connect: converted to TCP", "", "log=info", "socket", "oobinline", "URGENT ok"));
        }
        out.add(Arguments.of(Jdk.JDK17, "mptcp both ends, legacy PlainSocketImpl sender", "", "legacy:", "socket", "", REFUSED));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void urgentByteNeverEntersTheStream(Jdk jdk, String name, String serverAgent, String senderAgent, String api,
                                        String extra, String expected) throws Exception {
        try (ChildJvm server = ChildJvm.java(jdk, agent(serverAgent), "mptcp.it.apps.UrgentData", "serve")) {
            String port = server.expect("PORT ").substring(5);
            List<String> args = new ArrayList<>(List.of("send", port, api));
            if (!extra.isEmpty()) {
                args.add(extra);
            }
            try (ChildJvm sender = ChildJvm.java(jdk, agent(senderAgent), "mptcp.it.apps.UrgentData", args.toArray(new String[0]))) {
                String urgent = sender.expect("URGENT ");
                if (senderAgent != null && senderAgent.startsWith("legacy:")) {
                    sender.assertLegacySocketImpl();
                }
                assertTrue(urgent.startsWith(expected), urgent + "\n" + sender.output());
                sender.expect("SENT");
                assertEquals(0, sender.waitFor(), sender.output());
                assertEquals(CLEAN, server.expect("GOT "), server.output());
                if (extra.equals("oobinline")) {
                    assertTrue(sender.agentLines().stream().anyMatch(l -> l.startsWith("mptcp-agent: INFO: SO_OOBINLINE: the socket became plain TCP")),
                            sender.output());
                }
            }
        }
    }

    /** null: no agent; "legacy:" + options: the agent on JDK 17's legacy PlainSocketImpl. */
    private static List<String> agent(String options) {
        if (options != null && options.startsWith("legacy:")) {
            return List.of("-Djdk.net.usePlainSocketImpl=true", ChildJvm.loopbackAgentArg(options.substring("legacy:".length())));
        }
        return options == null ? List.of() : List.of(ChildJvm.loopbackAgentArg(options));
    }
}
