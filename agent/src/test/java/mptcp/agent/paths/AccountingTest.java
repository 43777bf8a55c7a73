package mptcp.agent.paths;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The aggregation of successive looks at connections into per-interface totals, gauges and failure events. */
class AccountingTest {
    private static final byte[] UPPER = {10, 91, 1, 2};
    private static final byte[] LOWER = {10, 91, 2, 2};

    private final Interfaces interfaces = new Interfaces();
    private final Accounting a = new Accounting(interfaces);

    AccountingTest() {
        interfaces.put(UPPER, "eth1");
        interfaces.put(LOWER, "eth2");
    }

    /** A healthy established subflow that sent {@code sent} bytes, with an ACK 10 ms ago. */
    private static View.Subflow ok(int id, byte[] local, long sent, long received) {
        return new View.Subflow(id, local, 0, View.ESTABLISHED, 0, 0, 10, 10, sent, received, 0);
    }

    /** A subflow with data outstanding, {@code backoff} timeouts in a row and no ACK for {@code silentMs}. */
    private static View.Subflow stalled(int id, byte[] local, long sent, int backoff, long silentMs) {
        return new View.Subflow(id, local, 0, View.ESTABLISHED, backoff, 12, silentMs, silentMs, sent, 0, 0);
    }

    private static View view(int token, View.Subflow... s) {
        return new View(token, s);
    }

    private long sent(String iface) {
        Accounting.Totals t = a.byInterface().get(iface);
        return t == null ? 0 : t.sent.sum();
    }

    private int open(String iface) {
        Accounting.Totals t = a.byInterface().get(iface);
        return t == null ? 0 : t.subflows.get();
    }

    @Test
    void differencesBetweenLooksAddUpPerInterfaceAndSurviveTheConnection() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, UPPER, 1000, 50)), false);
        a.look(c, view(1, ok(1, UPPER, 3000, 80), ok(2, LOWER, 500, 0)), false);
        assertEquals(3000, sent("eth1"));
        assertEquals(500, sent("eth2"));
        assertEquals(80, a.byInterface().get("eth1").received.sum());
        assertEquals(1, open("eth1"));
        assertEquals(1, open("eth2"));
        assertEquals(2, a.opened.sum());
        // the last look as the application closes it: the rest is counted, nothing is open any more
        a.look(c, view(1, ok(1, UPPER, 4000, 80), ok(2, LOWER, 900, 0)), true);
        assertEquals(4000, sent("eth1"));
        assertEquals(900, sent("eth2"));
        assertEquals(0, open("eth1"));
        assertEquals(0, open("eth2"));
        assertEquals(0, a.failures.sum(), "a clean close is no failure");
        a.look(c, view(1, ok(1, UPPER, 9999, 80)), false);
        assertEquals(4000, sent("eth1"), "nothing is added once the connection is gone");
    }

    @Test
    void retransmissionsAreCountedApartFromWhatWasSent() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 10, 10, 1000, 0, 100)), false);
        a.look(c, view(1, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 10, 10, 1500, 0, 150)), false);
        assertEquals(1350, sent("eth1"), "tcpi_bytes_sent less tcpi_bytes_retrans");
        assertEquals(150, a.byInterface().get("eth1").retransmitted.sum());
    }

    @Test
    void aSubflowClosedBetweenLooksKeepsWhatItCarriedAndIdsCountTheOnesNeverSeen() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, UPPER, 100, 0), ok(2, LOWER, 200, 0)), false);
        // subflow 2 closed cleanly, 3 came and went unseen, 4 is new
        a.look(c, view(1, ok(1, UPPER, 150, 0), ok(4, LOWER, 40, 0)), false);
        assertEquals(150, sent("eth1"));
        assertEquals(240, sent("eth2"));
        assertEquals(4, a.opened.sum());
        assertEquals(1, open("eth2"));
        assertEquals(0, a.failures.sum(), "subflow 2 was healthy when last seen: a path manager's close");
    }

    @Test
    void aStallWhileAnotherSubflowCarriesCountsOncePerEvent() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, UPPER, 1000, 0), ok(2, LOWER, 1000, 0)), false);
        // the upper path goes dark: RTOs back off, no ACK for 1.5 s, the lower one goes on
        a.look(c, view(1, stalled(1, UPPER, 1100, 2, 1500), ok(2, LOWER, 5000, 0)), false);
        assertEquals(1, a.failures.sum());
        a.look(c, view(1, stalled(1, UPPER, 1100, 4, 4000), ok(2, LOWER, 9000, 0)), false);
        assertEquals(1, a.failures.sum(), "the same stall is one event");
        // it recovers, then fails again: a second event
        a.look(c, view(1, ok(1, UPPER, 2000, 0), ok(2, LOWER, 9500, 0)), false);
        a.look(c, view(1, stalled(1, UPPER, 2100, 1, 1200), ok(2, LOWER, 12000, 0)), false);
        assertEquals(2, a.failures.sum());
        a.look(c, view(1, stalled(1, UPPER, 2100, 3, 3000), ok(2, LOWER, 15000, 0)), true);
        assertEquals(2, a.failures.sum());
    }

    @Test
    void noFailureWithoutAnotherPathCarryingNorForShortRetransmissionTimeouts() {
        Accounting.Connection single = new Accounting.Connection(7);
        a.look(single, view(1, stalled(1, UPPER, 100, 5, 9000)), false);
        assertEquals(0, a.failures.sum(), "one path only: the connection itself stalls");
        Accounting.Connection both = new Accounting.Connection(8);
        // both stalled: nothing carries the connection
        a.look(both, view(2, stalled(1, UPPER, 100, 3, 5000), stalled(2, LOWER, 100, 3, 5000)), false);
        assertEquals(0, a.failures.sum());
        Accounting.Connection lossy = new Accounting.Connection(9);
        // a timeout on a healthy lossy path: an ACK came 300 ms ago
        a.look(lossy, view(3, stalled(1, UPPER, 100, 1, 300), ok(2, LOWER, 100, 0)), false);
        // an idle subflow (nothing outstanding) and an idle connection
        a.look(lossy, view(3, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 60_000, 60_000, 100, 0, 0),
                ok(2, LOWER, 200, 0)), false);
        assertEquals(0, a.failures.sum());
    }

    @Test
    void aSubflowThatVanishesAfterARetransmissionTimeoutIsAFailure() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, stalled(1, UPPER, 100, 1, 400), ok(2, LOWER, 100, 0)), false);
        assertEquals(0, a.failures.sum());
        a.look(c, view(1, ok(2, LOWER, 900, 0)), false);
        assertEquals(1, a.failures.sum(), "closed by the kernel after a timeout while the lower path carried on");
        assertEquals(0, open("eth1"));
    }

    @Test
    void aLostConnectionLeavesTheOpenCountButKeepsItsBytes() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, UPPER, 100, 0), ok(2, LOWER, 100, 0)), false);
        a.lost(c);
        assertEquals(0, open("eth1"));
        assertEquals(0, open("eth2"));
        assertEquals(100, sent("eth1"));
    }

    @Test
    void unknownAddressesAndManyInterfacesAreBounded() {
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, null, 5, 0)), false);
        assertEquals(5, sent(Interfaces.UNKNOWN));
        Map<String, Accounting.Totals> all = a.byInterface();
        assertEquals(java.util.Set.of("unknown"), all.keySet());
    }

    @Test
    void anAddressUnknownAtFirstIsAttributedOnceItsInterfaceIsKnown() {
        byte[] fresh = {10, 91, 9, 9};
        Accounting.Connection c = new Accounting.Connection(7);
        a.look(c, view(1, ok(1, fresh, 100, 0)), false);
        assertEquals(100, sent(Interfaces.UNKNOWN));
        assertEquals(1, open(Interfaces.UNKNOWN));
        interfaces.put(fresh, "eth9");
        a.look(c, view(1, ok(1, fresh, 250, 0)), false);
        assertEquals(100, sent(Interfaces.UNKNOWN), "what it carried before stays where it was counted");
        assertEquals(150, sent("eth9"));
        assertEquals(0, open(Interfaces.UNKNOWN));
        assertEquals(1, open("eth9"));
    }

    @Test
    void aConnectionSeenOnlyAsItClosesCountsAsIfFollowedAllAlong() {
        // the short connection's case (one look, at close, one subflow), and the same figures reached in two looks
        Accounting.Connection shortOne = new Accounting.Connection(8);
        a.look(shortOne, view(0, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 10, 10, 1200, 300, 200)),
                true);
        Accounting other = new Accounting(interfaces);
        Accounting.Connection followed = new Accounting.Connection(9);
        other.look(followed, view(5, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 10, 10, 500, 100, 0)),
                false);
        other.look(followed, view(0, new View.Subflow(1, UPPER, 0, View.ESTABLISHED, 0, 0, 10, 10, 1200, 300, 200)),
                true);
        for (Accounting x : new Accounting[] {a, other}) {
            Accounting.Totals t = x.byInterface().get("eth1");
            assertEquals(1000, t.sent.sum(), "sent the first time: 1200 - 200 sent again");
            assertEquals(300, t.received.sum());
            assertEquals(200, t.retransmitted.sum());
            assertEquals(0, t.subflows.get());
            assertEquals(1, x.opened.sum());
            assertEquals(0, x.failures.sum());
        }
        a.look(shortOne, view(0, ok(1, UPPER, 5000, 5000)), true);
        assertEquals(1000, sent("eth1"), "nothing is added once the connection is gone");
        // a connection that carried nothing adds nothing but its subflow
        a.look(new Accounting.Connection(10), view(0, ok(1, LOWER, 0, 0)), true);
        assertEquals(0, sent("eth2"));
        assertEquals(2, a.opened.sum());
    }

    @Test
    void mappedAddressesAreTheirIpv4Address() {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 91, 1, 2};
        assertEquals(Interfaces.key(UPPER), Interfaces.key(View.unmapped(mapped)));
        byte[] v6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        assertEquals(16, View.unmapped(v6).length);
    }
}
