package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Counters stay exact under concurrency: 64 threads open and close connections with the four connect paths of the JDK
 * (blocking, timed, non-blocking channel, asynchronous) to MPTCP listeners accepting with the three accept paths, and
 * to a plain TCP server (ncat, no mptcpize). Everything runs in a fresh network namespace, so the kernel's own MPTCP
 * MIB counters there ({@code /proc/net/netstat}, MPTcpExt) count exactly this application's connections and are
 * compared with what {@code status} reports.
 */
class CountersIT {
    private static final int THREADS = 64;
    private static final int ITERATIONS = 10;
    private static final int PLAIN_PORT = 40000;

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void countersAreExactUnder64Threads(Jdk jdk) throws Exception {
        try (Netns ns = new Netns();
             ChildJvm ncat = ChildJvm.command(ns.wrap(List.of("ncat", "-l", "-k", "-m", "100000", "--recv-only",
                     "127.0.0.1", String.valueOf(PLAIN_PORT))), Map.of())) {
            long end = System.nanoTime() + 30_000_000_000L;
            while (!ns.exec("ss", "-H", "-ltn").contains(":" + PLAIN_PORT)) {
                assertTrue(System.nanoTime() < end, "ncat does not listen\n" + ncat.output());
                Thread.sleep(50);
            }
            try (ChildJvm app = ChildJvm.javaIn(ns, jdk, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.CountersApp",
                    String.valueOf(PLAIN_PORT), String.valueOf(THREADS), String.valueOf(ITERATIONS))) {
                String done = app.expect("D");
                assertTrue(done.startsWith("DONE "), app.output());
                long c = (long) THREADS * ITERATIONS;
                assertEquals(2 * c, Long.parseLong(done.split(" ")[1]));

                StatusIT.Status s = StatusIT.status(jdk, app.pid());
                Map<String, Long> mib = mib(ns);
                String both = s.cli + "\nkernel MPTcpExt: " + mib;
                assertEquals(3 + 2 * c, s.counter("sockets_mptcp"), both);
                assertEquals(0, s.counter("sockets_tcp_fallback"), both);
                assertEquals(2 * c, s.counter("connections_mptcp"), both);
                assertEquals(c, s.counter("connections_mptcp_accepted"), both);
                assertEquals(c, s.counter("connections_tcp"), both);
                assertEquals(0, s.counter("connections_tcp_accepted"), both);

                // the kernel's count of the same events in this namespace
                assertEquals(s.counter("connections_mptcp") - s.counter("connections_mptcp_accepted"),
                        mib.get("MPCapableSYNACKRX"), "outgoing MPTCP connections: " + both);
                assertEquals(s.counter("connections_mptcp_accepted"), mib.get("MPCapableSYNRX"), "accepted: " + both);
                assertEquals(s.counter("connections_tcp"), mib.get("MPCapableFallbackSYNACK"), "fallbacks: " + both);
                assertEquals(0, app.agentLines().size(), app.output());
                System.out.println("CountersIT " + jdk + ": " + done + " (connections, ns)");
            }
        }
    }

    /** MPTcpExt counters of the namespace. */
    static Map<String, Long> mib(Netns ns) throws Exception {
        String[] lines = ns.exec("cat", "/proc/net/netstat").split("\n");
        Map<String, Long> out = new HashMap<>();
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("MPTcpExt:") && lines[i + 1].startsWith("MPTcpExt:")) {
                String[] k = lines[i].trim().split("\\s+");
                String[] v = lines[i + 1].trim().split("\\s+");
                for (int j = 1; j < k.length; j++) {
                    out.put(k[j], Long.parseLong(v[j]));
                }
                break;
            }
        }
        return out;
    }
}
