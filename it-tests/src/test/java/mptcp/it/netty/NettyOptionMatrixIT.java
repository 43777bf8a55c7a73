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
 * loopback: with the default {@code loopback=tcp} a listener becomes plain TCP at its bind, a client socket is plain
 * TCP from the start; the MPTCP runs use {@code loopback=mptcp}. Two more runs make each before-connect socket start
 * with the other protocol than its connect needs, so that it changes protocol at its connect (MPTCP to TCP, TCP to
 * MPTCP), which checks that the options set before survive that conversion.
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
     * a listener is MPTCP until Netty binds it to loopback, then the rules turn it into plain TCP, keeping the options
     * set so far, column {@code kept}; a client socket registered before its connect is made as the connects before it
     * went, plain TCP from the start), then the before-connect sockets guessed wrong both ways: each is preceded by a
     * connect to 127.0.0.2 (refused) that an application rule decides otherwise than 127.0.0.1.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyCellAsOnTcpOrDocumented(Jdk jdk, String transport) throws Exception {
        Map<String, String> tcp = run(jdk, transport, List.of());
        Map<String, String> mptcp = run(jdk, transport, List.of(ChildJvm.loopbackAgentArg("")));
        assertTrue(tcp.keySet().stream().filter(k -> k.startsWith("cell ")).count() >= 60, "cells: " + tcp.keySet());
        List<String> deviations = compare(tcp, mptcp);
        // the agent's sockets really are MPTCP: the kernel's MPTCP answers show up
        assertTrue(deviations.contains("cell after-connect TCP_USER_TIMEOUT") && deviations.contains("cell accepted TCP_USER_TIMEOUT"),
                deviations.toString());

        // loopback=tcp: listeners converted at bind (only what failed on the MPTCP socket before differs), the rest TCP
        Map<String, String> byDefault = run(jdk, transport, List.of(ChildJvm.agentArg("")));
        List<String> converted = compare(tcp, byDefault);
        assertTrue(converted.stream().allMatch(c -> c.startsWith("cell listener ")), "client sockets plain TCP from the"
                + " start (as the connects before them went), connected and accepted sockets plain TCP: " + converted);
        assertProtocols(byDefault, "6", "6");

        if (!transport.equals("epoll")) {
            return; // io_uring's conversions carry the same options (NettyRulesIT converts its sockets both ways); strict below
        }
        // guessed wrong, MPTCP until connect (127.0.0.2 is MPTCP by the rule), then plain TCP with its options
        Map<String, String> toTcp = run(jdk, transport, List.of(ChildJvm.agentArg("rules=mptcp connect 127.0.0.2")), "127.0.0.2");
        converted = compare(tcp, toTcp);
        assertTrue(converted.stream().allMatch(c -> c.startsWith("cell listener ") || c.startsWith("cell before-connect ")),
                "connected and accepted sockets are plain TCP: " + converted);
        assertTrue(converted.contains("cell before-connect TCP_USER_TIMEOUT"), "MPTCP until connect: " + converted);
        assertProtocols(toTcp, "6", "6");

        // guessed wrong the other way: plain TCP until connect (as on TCP), then MPTCP with its options; an option
        // MPTCP lacks keeps it TCP (TCP_USER_TIMEOUT; TCP_MD5SIG, which only epoll offers)
        Map<String, String> toMptcp = run(jdk, transport,
                List.of(ChildJvm.agentArg("loopback=mptcp,rules=tcp connect 127.0.0.2")), "127.0.0.2");
        converted = compare(tcp, toMptcp);
        assertTrue(converted.stream().noneMatch(c -> c.startsWith("cell before-connect ")), "as on TCP: " + converted);
        assertProtocols(toMptcp, "262", "6");
        // without compat, the cells compat stands in for show MPTCP's errors: so the comparison above can fail
        Map<String, String> strict = run(jdk, transport, List.of(ChildJvm.loopbackAgentArg("options=strict")));
        for (String cell : List.of("cell after-connect IP_TOS", "cell accepted IP_TOS", "cell after-connect TCP_QUICKACK",
                "cell after-connect SO_REUSEADDR")) {
            assertTrue(tcp.get(cell).contains(" set=ok ") && strict.get(cell).contains(" set=ChannelException("),
                    tcp.get(cell) + "\n" + strict.get(cell));
        }
    }

    /** Fails unless every cell of {@code agent} is as on TCP or a documented deviation; returns the deviating cells. */
    private static List<String> compare(Map<String, String> tcp, Map<String, String> agent) {
        assertEquals(tcp.keySet(), agent.keySet());
        List<String> unexpected = new ArrayList<>();
        List<String> deviations = new ArrayList<>();
        for (Map.Entry<String, String> e : tcp.entrySet()) {
            String with = agent.get(e.getKey());
            if (with.equals(e.getValue()) || !e.getKey().startsWith("cell ")) {
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

    /**
     * The kernel's protocol of every before-connect socket once connected: {@code protocol}, but {@code tcpOnly} for the
     * options MPTCP lacks.
     */
    private static void assertProtocols(Map<String, String> cells, String protocol, String tcpOnly) {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> e : cells.entrySet()) {
            if (e.getKey().startsWith("protocol ")) {
                boolean only = e.getKey().endsWith(" TCP_USER_TIMEOUT") || e.getKey().endsWith(" TCP_MD5SIG");
                if (!e.getValue().endsWith(": " + (only ? tcpOnly : protocol))) {
                    wrong.add(e.getValue());
                }
            }
        }
        assertTrue(cells.keySet().stream().filter(k -> k.startsWith("protocol ")).count() >= 15, cells.keySet().toString());
        assertEquals(List.of(), wrong, "SO_PROTOCOL after connect, expected " + protocol + " (" + tcpOnly
                + " for TCP_USER_TIMEOUT and TCP_MD5SIG)");
    }

    private static Map<String, String> run(Jdk jdk, String transport, List<String> jvmArgs, String... decoy) throws Exception {
        List<String> args = new ArrayList<>(List.of(transport));
        args.addAll(List.of(decoy));
        try (ChildJvm app = TwoHosts.java(null, jdk, TwoHosts.NETTY42, jvmArgs, "mptcp.it.netty.NettyOptions",
                args.toArray(new String[0]))) {
            app.expect("DONE");
            assertEquals(0, app.waitFor(), app.output());
            Map<String, String> cells = new LinkedHashMap<>();
            for (String line : app.stdoutLines()) {
                if (line.startsWith("cell ") || line.startsWith("protocol ")) {
                    cells.put(line.substring(0, line.indexOf(':')), line);
                }
            }
            return cells;
        }
    }
}
