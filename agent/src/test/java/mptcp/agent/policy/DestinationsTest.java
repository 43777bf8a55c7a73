package mptcp.agent.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import mptcp.agent.config.Config;

/** What the connect race remembers per destination, and what a connect the race covers costs. */
class DestinationsTest {
    private static void configure(String args) {
        Policy.configure(Config.parse(args, Map.<String, String>of()::get, Map.<String, String>of()::get));
    }

    @AfterEach
    void forget() {
        Destinations.clear();
        configure("");
    }

    @Test
    void blackholeAfterTwoLostRacesDialledTcpUntilItsTtlDoubledOnRepeat() throws Exception {
        InetAddress a = InetAddress.getByName("10.1.2.3");
        assertFalse(Destinations.any());
        Destinations.blackhole(a, 443, 250, 1);
        Destinations.Entry e = Destinations.find(a, 443);
        assertEquals(Destinations.SUSPECT, e.kind, "one lost SYN proves little: still raced");
        assertFalse(Destinations.tcpAtOnce(e));
        assertTrue(e.describe().startsWith("10.1.2.3:443  suspect: MPTCP SYN unanswered for 250 ms once, plain TCP"
                + " answered in 1 ms;  a second time within "), e.describe());
        Destinations.blackhole(a, 443, 251, 1);
        assertTrue(Destinations.tcpAtOnce(e));
        assertNull(Destinations.find(a, 444), "per port");
        assertNull(Destinations.find(InetAddress.getByName("10.1.2.4"), 443), "per address");
        assertEquals(1, e.level);
        assertEquals(600_000, e.ttlMillis);
        assertTrue(e.describe().startsWith("10.1.2.3:443  blackhole: MPTCP SYN unanswered for 251 ms, plain TCP answered in"
                + " 1 ms;  plain TCP at once for "), e.describe());
        assertTrue(e.describe().endsWith("  ttl=600 s  backoff=1  connections_tcp=0"), e.describe());
        Destinations.blackhole(a, 443, 250, 1); // a race of a connect made before: no escalation while remembered
        assertEquals(1, e.level);
        for (int i = 2; i <= 9; i++) { // dropped again after each expiry (a probe)
            e.expires = System.nanoTime() - 1;
            Destinations.blackhole(a, 443, 250, 1);
            assertEquals(Math.min(i, 7), e.level);
        }
        assertEquals(64 * 600_000L, e.ttlMillis, "at most 64 times, as the kernel's own back-off");
        // MPTCP answers again: forgotten, back-off included
        Destinations.mptcpAnswered(a, 443, 1, 250);
        assertNull(Destinations.find(a, 443));
        assertFalse(Destinations.any());
        // a suspect whose evidence is older than the TTL starts again
        Destinations.blackhole(a, 443, 250, 1);
        Destinations.find(a, 443).expires = System.nanoTime() - 1;
        Destinations.blackhole(a, 443, 250, 1);
        assertEquals(Destinations.SUSPECT, Destinations.find(a, 443).kind);
    }

    @Test
    void expiredBlackholeIsProbedKeepingItsBackoff() throws Exception {
        configure("blackhole_ttl=1");
        InetAddress a = InetAddress.getByName("fd00::7");
        Destinations.blackhole(a, 80, 250, 1);
        Destinations.blackhole(a, 80, 250, 1);
        Destinations.Entry e = Destinations.find(InetAddress.getByName("fd00:0::7"), 80);
        assertTrue(Destinations.tcpAtOnce(e));
        e.expires = System.nanoTime() - 1;
        assertFalse(Destinations.tcpAtOnce(e), "expired: MPTCP is tried again (raced)");
        assertTrue(e.describe().startsWith("[fd00::7]:80  blackhole: ") && e.describe().contains("MPTCP tried again at the next"
                + " connect"), e.describe());
        Destinations.blackhole(a, 80, 250, 1); // one lost race suffices now
        assertEquals(2, e.level);
        assertEquals(2000, e.ttlMillis);
        assertTrue(Destinations.tcpAtOnce(e));
    }

    @Test
    void slowDestinationGetsALongerRaceDelay() throws Exception {
        InetAddress a = InetAddress.getByName("192.0.2.9");
        Destinations.mptcpAnswered(a, 8080, 100, 250); // fast: nothing to remember
        assertNull(Destinations.find(a, 8080));
        assertEquals(250, Destinations.delayMillis(null, 0));
        Destinations.mptcpAnswered(a, 8080, 210, 250);
        Destinations.Entry e = Destinations.find(a, 8080);
        assertFalse(Destinations.tcpAtOnce(e));
        assertEquals(420, Destinations.delayMillis(e, 0));
        assertTrue(e.describe().startsWith("192.0.2.9:8080  slow: MPTCP answered in 210 ms;  race delay 420 ms for "), e.describe());
        Destinations.mptcpAnswered(a, 8080, 900, 250);
        assertEquals(Destinations.MAX_DELAY_MILLIS, Destinations.delayMillis(e, 0));
        Destinations.mptcpAnswered(a, 8080, 20, 250); // fast again
        assertNull(Destinations.find(a, 8080));
    }

    @Test
    void boundedTable() throws Exception {
        for (int i = 0; i < Destinations.MAX + 100; i++) {
            InetAddress a = InetAddress.getByAddress(new byte[] {10, 9, (byte) (i >> 8), (byte) i});
            Destinations.blackhole(a, 5432, 250, 1);
            Destinations.blackhole(a, 5432, 250, 1);
        }
        assertEquals(Destinations.MAX, Destinations.entries().size());
        assertTrue(Destinations.tcpAtOnce(Destinations.find(InetAddress.getByAddress(new byte[] {10, 9, 4, 99}), 5432)),
                "the latest are kept");
    }

    /** A connect the race covers, on a path that answers: registered and unregistered without allocating. */
    @Test
    void aConnectThatIsAnsweredAllocatesNothing() throws Exception {
        InetAddress a = InetAddress.getByName("10.1.2.3");
        int fd = 1000; // any number: the race thread is never asked before the deadline
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] allocated = new long[6];
        for (int round = 0; round < allocated.length; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 50_000; i++) {
                assertTrue(Races.beforeConnect(fd, a, 443, Decisions.OWN));
                Races.beforeFinish(fd);
                Races.afterFinish(fd, true, false);
            }
            allocated[round] = threads.getCurrentThreadAllocatedBytes() - before;
        }
        System.out.println("Races, bytes allocated per round of 50,000 connects: " + java.util.Arrays.toString(allocated));
        assertEquals(0, java.util.Arrays.stream(allocated, 3, allocated.length).min().getAsLong(), "once compiled, nothing");
        configure("race=off");
        assertFalse(Races.beforeConnect(fd, a, 443, Decisions.OWN), "race=off: nothing registered");
    }
}
