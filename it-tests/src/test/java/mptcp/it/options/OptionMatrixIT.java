package mptcp.it.options;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The socket-option compatibility matrix (app {@code mptcp.it.apps.OptionMatrix}): one child JVM without the agent
 * and one with it compute every cell; each cell's outcome must be the same, or be one of the documented deviations
 * below (docs/options.md). The JDK's capability probes (supportedOptions) must be the same too. A third child with
 * {@code options=strict} must show mptcpize's errors, so the comparison can fail.
 */
class OptionMatrixIT {

    /**
     * Documented deviations (docs/options.md): the traffic class of an established MPTCP connection to an IPv6 peer,
     * and of an MPTCP listener bound to an IPv6 address. MPTCP has no IPV6_TCLASS and the socket can no longer become
     * TCP: the JDK's SocketException surfaces (JDK 17's Socket.setTrafficClass ignores it once connected), and the
     * value reads back as the default.
     */
    private static final Pattern DEVIATION = Pattern.compile(
            "cell \\S+ v6 (after-connect|bound-listener|accepted) (IP_TOS|setTrafficClass): set=(SocketException|ok) get=0 data=ok");

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void everyCellAsOnTcp(Jdk jdk) throws Exception {
        Map<String, String> tcp = run(jdk, null);
        ChildJvm[] agent = new ChildJvm[1];
        Map<String, String> mptcp = run(jdk, "log=info", agent);
        assertEquals(tcp.keySet(), mptcp.keySet());
        assertTrue(tcp.size() > 500, "cells: " + tcp.size());
        List<String> unexpected = new ArrayList<>();
        int deviations = 0;
        int converted = 0;
        for (Map.Entry<String, String> e : tcp.entrySet()) {
            if (!e.getKey().startsWith("cell ")) {
                continue;
            }
            String without = e.getValue();
            String with = mptcp.get(e.getKey());
            // the kernel's protocol of the cell's sockets: TCP without the agent; with it MPTCP, or TCP exactly where
            // compat documents a conversion (a cell whose set-up failed has no proto: never "the same as TCP")
            boolean server = !e.getKey().startsWith("cell socket ") && !e.getKey().startsWith("cell channel")
                    && !e.getKey().startsWith("cell async ");
            String allTcp = server ? "6,6,6" : "6,6";
            boolean toTcp = convertsToTcp(e.getKey(), without);
            String expected = !toTcp ? (server ? "262,262,262" : "262,262")
                    : server ? "6,262,6" : "6,6"; // a converted listener still gets an MPTCP client, its accepted socket is TCP
            converted += toTcp ? 1 : 0;
            if (!allTcp.equals(protocols(without))) {
                unexpected.add("without the agent, proto should be " + allTcp + ": " + without);
            }
            if (!sorted(expected).equals(sorted(protocols(with)))) {
                unexpected.add("with the agent, proto should be " + expected + ": " + with);
            }
            String withoutProto = with.replaceFirst(" proto=\\S*$", "");
            if (!withoutProto.equals(without.replaceFirst(" proto=\\S*$", ""))) {
                if (DEVIATION.matcher(withoutProto).matches()) {
                    deviations++;
                } else {
                    unexpected.add("TCP:   " + e.getValue() + "\nagent: " + with);
                }
            }
        }
        if (!unexpected.isEmpty()) {
            fail(unexpected.size() + " cells differ from TCP:\n" + String.join("\n", unexpected));
        }
        assertTrue(deviations <= 8, "deviations: " + deviations);
        assertTrue(converted >= 30, "documented conversions to TCP: " + converted);
        for (String probe : List.of("supported Socket", "supported SocketChannel", "supported ServerSocketChannel")) {
            assertTrue(mptcp.get(probe).contains("TCP_QUICKACK") && mptcp.get(probe).contains("TCP_KEEPIDLE"), mptcp.get(probe));
        }
        // every deviation or conversion: one INFO line per option and outcome per JVM
        List<String> info = agent[0].agentLines().stream().filter(l -> l.startsWith("mptcp-agent: INFO: ") && !l.contains("active ("))
                .collect(Collectors.toList());
        assertEquals(info.size(), info.stream().distinct().count(), "an INFO line repeated:\n" + String.join("\n", info));
        for (String expected : new String[] {"SO_OOBINLINE: the socket became plain TCP", "TCP_QUICKACK: the socket became plain TCP",
                "IPV6_TCLASS: the socket became plain TCP", "SO_OOBINLINE: accepted and remembered", "IPV6_TCLASS: set as IPv4 TOS"}) {
            assertEquals(1, info.stream().filter(l -> l.startsWith("mptcp-agent: INFO: " + expected)).count(),
                    expected + " logged once:\n" + String.join("\n", info));
        }
    }

    /**
     * docs/options.md, compat step 2: a socket not yet connected, connecting or listening becomes plain TCP when the
     * JDK sets TCP_QUICKACK or SO_OOBINLINE on it, or the traffic class on an AF_INET6 (IPv6 or dual-stack) socket,
     * and that succeeds on TCP. A listener converted before bind accepts TCP connections.
     */
    static boolean convertsToTcp(String key, String tcpLine) {
        String[] k = key.split(" "); // cell kind peer phase option
        String kind = k[1];
        String phase = k[3];
        String option = k[4];
        boolean unconnected = phase.equals("before-connect") || phase.equals("bound-before-connect")
                || phase.equals("unbound-listener");
        boolean inet6 = !kind.endsWith("-inet");
        boolean lacking = option.equals("TCP_QUICKACK") || option.equals("setOOBInline")
                || (inet6 && (option.equals("IP_TOS") || option.equals("setTrafficClass")));
        return unconnected && lacking && tcpLine.contains(" set=ok ");
    }

    /**
     * The protocols as a sorted list: they are listed by fd number, which is not creation order when a lower fd was
     * freed meanwhile (an asynchronous accept may then get a lower number than the client made before it).
     */
    private static List<String> sorted(String protocols) {
        List<String> out = new ArrayList<>(List.of(protocols.split(",")));
        java.util.Collections.sort(out);
        return out;
    }

    /** The proto= field of a cell line ("" when the cell's set-up failed before the sockets were read). */
    private static String protocols(String line) {
        int at = line.indexOf(" proto=");
        return at < 0 ? "" : line.substring(at + 7);
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void strictKeepsMptcpErrors(Jdk jdk) throws Exception {
        Map<String, String> strict = run(jdk, "options=strict");
        assertTrue(strict.get("cell socket v4 before-connect TCP_QUICKACK").contains("set=UnsupportedOperationException"),
                strict.get("cell socket v4 before-connect TCP_QUICKACK"));
        assertTrue(strict.get("cell socket v4 before-connect setOOBInline").startsWith("cell socket v4 before-connect setOOBInline: set=SocketException"),
                strict.get("cell socket v4 before-connect setOOBInline"));
        assertTrue(strict.get("cell channel v4 before-connect IP_TOS").contains("set=SocketException"), strict.get("cell channel v4 before-connect IP_TOS"));
    }

    private static Map<String, String> run(Jdk jdk, String agentOptions, ChildJvm... keep) throws Exception {
        List<String> jvm = agentOptions == null ? List.of() : List.of(ChildJvm.loopbackAgentArg(agentOptions));
        try (ChildJvm app = ChildJvm.java(jdk, jvm, "mptcp.it.apps.OptionMatrix")) {
            app.expect("DONE");
            assertEquals(0, app.waitFor(), app.output());
            if (keep.length > 0) {
                keep[0] = app;
            }
            Map<String, String> cells = new LinkedHashMap<>();
            for (String line : app.stdoutLines()) {
                if (line.startsWith("cell ")) {
                    cells.put(line.substring(0, line.indexOf(':')), line);
                } else if (line.startsWith("supported ")) {
                    cells.put(line.substring(0, line.indexOf(' ', 10)), line);
                }
            }
            return cells;
        }
    }
}
