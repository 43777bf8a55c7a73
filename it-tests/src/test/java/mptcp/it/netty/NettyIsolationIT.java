package mptcp.it.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import mptcp.it.ChildJvm;
import mptcp.it.Jdk;
import mptcp.it.Ss;

/**
 * An application with its own Netty (4.2, epoll) under the agent: the agent's classes stay invisible to it, the JVM
 * prints exactly what it prints without the agent on stderr (JDK 25 has warnings of its own about Netty's native
 * library: the same ones, no more), and {@code enabled=false} or {@code netty=off} touch nothing in Netty (no hook
 * class, TCP).
 */
class NettyIsolationIT {

    private static List<String> run(Jdk jdk, List<String> jvmArgs, String protocol, List<String> stdout) throws Exception {
        return run(jdk, TwoHosts.NETTY42, jvmArgs, protocol, stdout);
    }

    private static List<String> run(Jdk jdk, String classpath, List<String> jvmArgs, String protocol, List<String> stdout)
            throws Exception {
        try (ChildJvm app = TwoHosts.java(null, jdk, classpath, jvmArgs, "mptcp.it.netty.NettyEcho",
                "epoll", "server", "127.0.0.1", "0")) {
            app.expect("READY");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(1, Ss.count(s, protocol, "LISTEN"), jvmArgs + ": " + s);
            assertEquals(1, s.size(), jvmArgs + ": " + s);
            app.finish();
            stdout.addAll(app.stdoutLines());
            return app.stderrLines();
        }
    }

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void ownNettyUnaffected(Jdk jdk) throws Exception {
        List<String> plainOut = new ArrayList<>();
        List<String> plain = run(jdk, List.of(), "tcp", plainOut);
        assertTrue(plainOut.contains("HOOK absent"), plainOut.toString());

        List<String> agentOut = new ArrayList<>();
        List<String> withAgent = run(jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp", agentOut);
        assertTrue(agentOut.containsAll(List.of("HIDDEN mptcp.agent.Agent", "HIDDEN mptcp.agent.netty.NettySockets",
                "HIDDEN mptcp.sys.Sock", "HOOK present")), agentOut.toString());
        assertEquals(plain, withAgent, "stderr with the agent differs from stderr without it");

        List<String> offOut = new ArrayList<>();
        List<String> off = run(jdk, List.of(ChildJvm.agentArg("enabled=false")), "tcp", offOut);
        assertTrue(offOut.contains("HOOK absent"), offOut.toString());
        assertEquals(plain, off, "stderr with enabled=false differs from stderr without the agent");

        List<String> nettyOffOut = new ArrayList<>();
        List<String> nettyOff = run(jdk, List.of(ChildJvm.agentArg("netty=off")), "tcp", nettyOffOut);
        assertTrue(nettyOffOut.contains("HOOK absent"), nettyOffOut.toString());
        assertEquals(plain, nettyOff, "stderr with netty=off differs from stderr without the agent");
    }

    /** Netty's jars are explicit JPMS modules: on the module path too, its sockets become MPTCP, and the rules apply. */
    @ParameterizedTest
    @EnumSource(Jdk.class)
    void nettyOnTheModulePath(Jdk jdk) throws Exception {
        List<String> modules = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (String e : TwoHosts.NETTY42.split(java.io.File.pathSeparator)) {
            (e.replace('\\', '/').contains("/io/netty/") ? modules : rest).add(e);
        }
        List<String> out = new ArrayList<>();
        run(jdk, String.join(java.io.File.pathSeparator, rest), List.of(ChildJvm.loopbackAgentArg(""), "--module-path",
                String.join(java.io.File.pathSeparator, modules), "--add-modules", "ALL-MODULE-PATH"), "mptcp", out);
        assertTrue(out.contains("HOOK present"), out.toString());
        // the default loopback=tcp: the listener on 127.0.0.1 is kept TCP at its bind (the rules' hook, on the module path)
        List<String> rules = new ArrayList<>();
        List<String> stderr = run(jdk, String.join(java.io.File.pathSeparator, rest), List.of(ChildJvm.agentArg("log=info"),
                "--module-path", String.join(java.io.File.pathSeparator, modules), "--add-modules", "ALL-MODULE-PATH"), "tcp", rules);
        assertTrue(stderr.contains("mptcp-agent: INFO: sockets bound to 127.0.0.1:0: plain TCP by rule 'tcp bind 127.0.0.0/8'"
                + " (loopback=tcp); once per address"), stderr.toString());
        // a client: Bootstrap (module io.netty.transport, which does not read the unix module) hands its destination
        // to its own hook, and the socket is made plain TCP at once
        try (ChildJvm app = TwoHosts.java(null, jdk, String.join(java.io.File.pathSeparator, rest), List.of(
                ChildJvm.agentArg("log=debug"), "--module-path", String.join(java.io.File.pathSeparator, modules),
                "--add-modules", "ALL-MODULE-PATH"), "mptcp.it.netty.NettyEcho", "epoll", "loop", "127.0.0.1", "127.0.0.1", "1")) {
            app.expect("READY");
            assertTrue(app.stdoutLines().stream().anyMatch(l -> l.startsWith("ECHO hello 0 ")), app.output());
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertEquals(2, Ss.count(s, "tcp", "ESTAB"), s.toString());
            app.finish();
            List<String> lines = app.agentLines();
            assertTrue(lines.stream().anyMatch(l -> l.endsWith(" client socket made plain TCP (its destination is kept TCP"
                    + " by a rule)")), app.output());
            assertEquals(List.of(), lines.stream().filter(l -> l.contains(" WARN: ")).collect(java.util.stream.Collectors.toList()),
                    app.output());
        }
    }
}
