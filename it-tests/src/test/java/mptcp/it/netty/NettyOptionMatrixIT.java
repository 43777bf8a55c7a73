package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import mptcp.it.ChildJvm;
import mptcp.it.Jdk;

/**
 * The socket-option matrix of Netty's native transports (app {@link NettyOptions}, Netty 4.2.18 epoll and io_uring):
 * one child JVM without the agent and one with it; each cell must be the same, or one of the documented deviations
 * below (docs/netty.md). Netty sets options through its own natives on the fd; the Netty module guards the wrappers
 * of the traffic class, TCP_QUICKACK and SO_REUSEADDR with the policy's options=compat (without ever swapping the
 * socket to TCP); the rest are the kernel's MPTCP answers, measured on Linux 6.18. A third run with options=strict
 * shows MPTCP's errors where compat stands in. In every cell the connection still carries data. The matrix runs over
 * loopback: with the default {@code loopback=tcp} every socket becomes plain TCP at bind or connect, which checks that
 * the options set before survive that conversion; the MPTCP runs use {@code loopback=mptcp}.
 */
class NettyOptionMatrixIT {

    /**
     * Documented deviations (docs/netty.md): what options=compat cannot stand in for. The traffic class before connect
     * (MPTCP has no IPV6_TCLASS; once connected to an IPv4 peer the agent sets the IPv4 TOS instead, and the socket
     * cannot become plain TCP because Netty has registered it with its epoll instance), TCP_USER_TIMEOUT and TCP_MD5SIG
     * (not in MPTCP), IP_TRANSPARENT and IP_BIND_ADDRESS_NO_PORT after connect (MPTCP takes them only before).
     */
    private static final List<Pattern> DEVIATIONS = List.of(
            Pattern.compile("cell before-connect IP_TOS: set=ChannelException\\(setsockopt\\(\\)_failed:_Operation_not_supported\\)"
                    + " get=0 data=ok kept=0"),
            Pattern.compile("cell (before-connect|after-connect|accepted) TCP_USER_TIMEOUT: "
                    + "set=ChannelException\\(setsockopt\\(\\)_failed:_Protocol_not_available\\) "
                    + "get=ChannelException\\(getsockopt\\(\\)_failed:_Operation_not_supported\\) data=ok( kept=\\S+)?"),
            Pattern.compile("cell (after-connect|accepted) (IP_TRANSPARENT|IP_BIND_ADDRESS_NO_PORT): "
                    + "set=ChannelException\\(setsockopt\\(\\)_failed:_Invalid_argument\\) get=true data=ok"),
            Pattern.compile("cell (listener|before-connect|after-connect|accepted) TCP_MD5SIG: "
                    + "set=ChannelException/IOException\\(setsockopt\\(\\)_failed:_Protocol_not_available\\) get=null data=ok"
                    + "( kept=\\S+)?"));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Jdk jdk : Jdk.values()) {
            out.add(Arguments.of(jdk, "epoll"));
            out.add(Arguments.of(jdk, "io_uring"));
        }
        return out.stream();
    }

    /**
     * Loopback MPTCP ({@code loopback=mptcp}: the sockets stay MPTCP throughout), then the default ({@code loopback=tcp}:
     * every socket of the matrix is MPTCP until Netty binds or connects it to loopback, then the rules turn it into
     * plain TCP, keeping the options set so far, column {@code kept}).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyCellAsOnTcpOrDocumented(Jdk jdk, String transport) throws Exception {
        Map<String, String> tcp = run(jdk, transport, List.of());
        Map<String, String> mptcp = run(jdk, transport, List.of(ChildJvm.loopbackAgentArg("")));
        assertTrue(tcp.size() >= 60, "cells: " + tcp.size());
        List<String> deviations = compare(tcp, mptcp);
        // the agent's sockets really are MPTCP: the kernel's MPTCP answers show up
        assertTrue(deviations.contains("cell after-connect TCP_USER_TIMEOUT") && deviations.contains("cell accepted TCP_USER_TIMEOUT"),
                deviations.toString());

        // loopback=tcp: converted at bind and connect; only what failed on the MPTCP socket before that differs
        List<String> converted = compare(tcp, run(jdk, transport, List.of(ChildJvm.agentArg(""))));
        assertTrue(converted.stream().allMatch(c -> c.startsWith("cell listener ") || c.startsWith("cell before-connect ")),
                "connected and accepted sockets are plain TCP: " + converted);
        assertTrue(converted.contains("cell before-connect TCP_USER_TIMEOUT"), "MPTCP until connect: " + converted);
        if (transport.equals("epoll")) {
            // without compat, the cells compat stands in for show MPTCP's errors: so the comparison above can fail
            Map<String, String> strict = run(jdk, transport, List.of(ChildJvm.loopbackAgentArg("options=strict")));
            for (String cell : List.of("cell after-connect IP_TOS", "cell accepted IP_TOS", "cell after-connect TCP_QUICKACK",
                    "cell after-connect SO_REUSEADDR")) {
                assertTrue(tcp.get(cell).contains(" set=ok ") && strict.get(cell).contains(" set=ChannelException("),
                        tcp.get(cell) + "\n" + strict.get(cell));
            }
        }
    }

    /** Fails unless every cell of {@code agent} is as on TCP or a documented deviation; returns the deviating cells. */
    private static List<String> compare(Map<String, String> tcp, Map<String, String> agent) {
        assertEquals(tcp.keySet(), agent.keySet());
        List<String> unexpected = new ArrayList<>();
        List<String> deviations = new ArrayList<>();
        for (Map.Entry<String, String> e : tcp.entrySet()) {
            String with = agent.get(e.getKey());
            if (with.equals(e.getValue())) {
                continue;
            }
            if (e.getValue().contains(" set=ok ") && DEVIATIONS.stream().anyMatch(p -> p.matcher(with).matches())) {
                deviations.add(e.getKey());
            } else {
                unexpected.add("TCP:   " + e.getValue() + "\nagent: " + with);
            }
        }
        if (!unexpected.isEmpty()) {
            fail(unexpected.size() + " cells differ from TCP:\n" + String.join("\n", unexpected));
        }
        return deviations;
    }

    private static Map<String, String> run(Jdk jdk, String transport, List<String> jvmArgs) throws Exception {
        try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.NETTY42, jvmArgs, "mptcp.it.netty.NettyOptions", transport)) {
            app.expect("DONE");
            assertEquals(0, app.waitFor(), app.output());
            Map<String, String> cells = new LinkedHashMap<>();
            for (String line : app.stdoutLines()) {
                if (line.startsWith("cell ")) {
                    cells.put(line.substring(0, line.indexOf(':')), line);
                }
            }
            return cells;
        }
    }
}
