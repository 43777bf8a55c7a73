package mptcp.agent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The checks of doctor on facts as the kernel and iproute2 6.1 print them (outputs copied from this machine). */
class DoctorTest {

    private static Doctor.Facts facts(String enabled, String limits, String endpoints) {
        Doctor.Facts f = new Doctor.Facts();
        f.namespace = "test";
        f.kernel = "6.18.44";
        f.sysctlDir = true;
        f.sysctl.put("available_schedulers", "default");
        f.sysctl.put("checksum_enabled", "0");
        f.sysctl.put("enabled", enabled);
        f.sysctl.put("path_manager", "kernel");
        f.sysctl.put("pm_type", "0");
        f.sysctl.put("scheduler", "default");
        f.probeErrno = "1".equals(enabled) ? 0 : 92;
        f.probeError = "1".equals(enabled) ? null : "ENOPROTOOPT (Protocol not available)";
        f.limits = limits;
        f.endpoints = endpoints;
        f.addresses = Doctor.parseAddresses("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
                + "2: eth0@if5    inet 10.1.0.2/24 scope global eth0\\       valid_lft forever preferred_lft forever\n"
                + "3: eth1@if6    inet 10.2.0.2/24 scope global eth1\\       valid_lft forever preferred_lft forever\n"
                + "2: eth0@if5    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n");
        return f;
    }

    @Test
    void parsesLimitsInTextAndJson() {
        assertArrayEquals(new int[] {2, 0}, Doctor.parseLimits("add_addr_accepted 0 subflows 2 \n"));
        assertArrayEquals(new int[] {8, 3}, Doctor.parseLimits("{\"add_addr_accepted\":3,\"subflows\":8}"));
        assertArrayEquals(new int[] {-1, -1}, Doctor.parseLimits(""));
    }

    @Test
    void parsesEndpoints() {
        List<Doctor.Endpoint> e = Doctor.parseEndpoints("10.1.1.1 id 1 signal dev lo \n10.1.1.2 port 7000 id 2 subflow fullmesh dev lo \n"
                + "dead:beef::1 id 3 subflow backup \n");
        assertEquals(3, e.size());
        assertEquals("10.1.1.1", e.get(0).address);
        assertEquals(List.of("signal"), e.get(0).flags);
        assertEquals("lo", e.get(0).dev);
        assertEquals(7000, e.get(1).port);
        assertEquals(2, e.get(1).id);
        assertEquals(List.of("subflow", "fullmesh"), e.get(1).flags);
        assertEquals(null, e.get(2).dev);
        assertEquals(List.of("subflow", "backup"), e.get(2).flags);
        assertTrue(Doctor.parseEndpoints("").isEmpty());
    }

    @Test
    void parsesAddresses() {
        Map<String, String> a = facts("1", "", "").addresses;
        assertEquals("eth0", a.get("10.1.0.2"));
        assertEquals("eth1", a.get("10.2.0.2"));
        assertEquals("lo", a.get("127.0.0.1"));
        assertEquals("eth0", a.get("fe80::1"));
    }

    @Test
    void disabledIsUnusableAndNamesTheSysctl() {
        Doctor.Facts f = facts("0", "add_addr_accepted 0 subflows 2", "");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.UNUSABLE, r.exit);
        String text = Doctor.text(f, r);
        assertTrue(text.contains("fix: sysctl -w net.mptcp.enabled=1"), text);
    }

    @Test
    void noKernelSupport() {
        Doctor.Facts f = facts("1", null, null);
        f.sysctlDir = false;
        f.sysctl.clear();
        f.probeErrno = 93;
        f.probeError = "EPROTONOSUPPORT";
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.UNUSABLE, r.exit);
        assertTrue(Doctor.text(f, r).contains("CONFIG_MPTCP=y"));
    }

    @Test
    void securityModuleDenial() {
        Doctor.Facts f = facts("1", "add_addr_accepted 0 subflows 2", "");
        f.probeErrno = 13;
        f.probeError = "EACCES";
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.UNUSABLE, r.exit);
        assertTrue(Doctor.text(f, r).contains("security module"));
    }

    @Test
    void defaultLimitsWithoutEndpointsIsSinglePathWithFixes() {
        Doctor.Facts f = facts("1", "add_addr_accepted 0 subflows 2 \n", "");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.SINGLE_PATH, r.exit);
        String text = Doctor.text(f, r);
        assertTrue(text.contains("fix: ip mptcp limits set subflow 2 add_addr_accepted 2"), text);
        assertTrue(text.contains("fix: ip mptcp endpoint add 10.2.0.2 dev eth1 signal"), text);
        assertTrue(text.contains("fix: ip mptcp endpoint add 10.2.0.2 dev eth1 subflow"), text);
        assertTrue(r.client.startsWith("one path only"), r.client);
    }

    @Test
    void zeroSubflowLimitIsSinglePathEvenWithEndpoints() {
        Doctor.Facts f = facts("1", "add_addr_accepted 2 subflows 0", "10.2.0.2 id 1 signal subflow dev eth1 \n");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.SINGLE_PATH, r.exit);
        assertTrue(r.server.contains("subflows limit 0"), r.server);
    }

    @Test
    void limitsAndSignalEndpointIsReady() {
        Doctor.Facts f = facts("1", "add_addr_accepted 2 subflows 2", "10.2.0.2 id 1 signal dev eth1 \n");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.READY, r.exit, Doctor.text(f, r));
        assertTrue(r.server.contains("announces 10.2.0.2"), r.server);
        assertTrue(r.client.contains("joins up to 2"), r.client);
        String json = Doctor.json(f, r);
        assertTrue(json.contains("\"exit\": 0"), json);
        assertTrue(json.contains("{\"address\": \"10.2.0.2\", \"id\": 1, \"port\": 0, \"dev\": \"eth1\", \"flags\": [\"signal\"]}"), json);
        assertTrue(json.contains("\"net.mptcp.enabled\": \"1\""), json);
    }

    @Test
    void clientSubflowEndpointIsReadyButWarnsAboutAddAddrAccepted() {
        Doctor.Facts f = facts("1", "add_addr_accepted 0 subflows 2", "10.2.0.2 id 1 subflow dev eth1 \n");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.READY, r.exit);
        assertTrue(r.client.contains("opens up to 1 additional subflow(s) from 10.2.0.2"), r.client);
        assertTrue(Doctor.text(f, r).contains("warn  add_addr_accepted"), Doctor.text(f, r));
    }

    @Test
    void endpointOnAMissingAddressIsFlagged() {
        Doctor.Facts f = facts("1", "add_addr_accepted 2 subflows 2", "10.9.9.9 id 4 signal dev eth1 \n");
        String text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("10.9.9.9 (signal, dev eth1) is not an address of any interface"), text);
        assertTrue(text.contains("ip mptcp endpoint delete id 4"), text);
    }

    @Test
    void userspacePathManagerNeedsMptcpd() {
        Doctor.Facts f = facts("1", "add_addr_accepted 0 subflows 2", "");
        f.sysctl.put("path_manager", "userspace");
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.SINGLE_PATH, r.exit);
        assertTrue(Doctor.text(f, r).contains("systemctl start mptcpd"));
        f.mptcpd.add(42L);
        assertEquals(Doctor.READY, Doctor.evaluate(f).exit);
    }

    @Test
    void olderKernelsWithPmTypeOnly() {
        Doctor.Facts f = facts("1", "add_addr_accepted 0 subflows 2", "");
        f.sysctl.remove("path_manager");
        f.sysctl.put("pm_type", "1");
        String text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("userspace (net.mptcp.pm_type = 1)"), text);
        assertTrue(text.contains("sysctl -w net.mptcp.pm_type=0"), text);
    }

    @Test
    void withoutIproute2TheLimitsAreReportedUnreadable() {
        Doctor.Facts f = facts("1", null, null);
        f.ipError = "iproute2's `ip` is not installed";
        Doctor.Result r = Doctor.evaluate(f);
        assertEquals(Doctor.SINGLE_PATH, r.exit);
        assertTrue(Doctor.text(f, r).contains("apt-get install iproute2"));
    }

    @Test
    void fixesForAnotherNamespaceRunInsideIt() {
        Doctor.Facts f = facts("0", "add_addr_accepted 0 subflows 2", "");
        f.fixPrefix = "nsenter -t 42 -n ";
        String text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("fix: nsenter -t 42 -n sysctl -w net.mptcp.enabled=1"), text);
        assertTrue(text.contains("--allowed-unsafe-sysctls='net.mptcp.*'"), text);
        assertTrue(!text.contains("/etc/sysctl.d"), text);
        f = facts("1", "add_addr_accepted 0 subflows 2", "");
        f.fixPrefix = "nsenter -t 42 -n ";
        text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("fix: nsenter -t 42 -n ip mptcp limits set subflow 2 add_addr_accepted 2"), text);
    }

    @Test
    void namesTheBlackholeSysctlsAndWhatTheAgentDoes() {
        Doctor.Facts f = facts("1", "add_addr_accepted 2 subflows 2", "10.2.0.2 id 1 subflow dev eth1 \n");
        f.sysctl.put("blackhole_timeout", "3600");
        f.sysctl.put("syn_retrans_before_tcp_fallback", "2");
        String text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("  info  blackhole      net.mptcp.syn_retrans_before_tcp_fallback = 2, blackhole_timeout"
                + " = 3600: where a middlebox drops MPTCP SYNs the kernel sends a plain SYN after 2 unanswered"
                + " retransmission(s) (about 3 s) and, if that one is answered, turns active MPTCP off for this whole"
                + " namespace for 3600 s (doubled each time). The agent (race=on) dials plain TCP"), text);
        assertTrue(!text.contains("fix: sysctl -w net.mptcp.blackhole_timeout"), text);

        f.counters.put("Blackhole", 1L);
        f.counters.put("MPCapableSYNTXDisabled", 4L);
        text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("  warn  blackhole      "), text);
        assertTrue(text.contains("The kernel did turn active MPTCP off here 1 time(s) (MPTcpExtBlackhole; 4 connects"), text);
        assertTrue(text.contains("fix: sysctl -w net.mptcp.blackhole_timeout=3600   # writing it (any value) turns"
                + " active MPTCP back on at once"), text);

        f.sysctl.put("blackhole_timeout", "0");
        text = Doctor.text(f, Doctor.evaluate(f));
        assertTrue(text.contains("(about 3 s), for every such connect (blackhole_timeout 0: MPTCP is never turned off)"), text);
        f.sysctl.remove("blackhole_timeout"); // a kernel before 6.12: no such check
        assertTrue(!Doctor.text(f, Doctor.evaluate(f)).contains("blackhole"));
    }

    @Test
    void readsTheNamespacesMptcpCounters() {
        Map<String, Long> c = DoctorCommand.counters("TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 0 0\n"
                + "MPTcpExt: MPCapableSYNRX MPCapableSYNTX Blackhole\nMPTcpExt: 3 5 1\n");
        assertEquals(Map.of("MPCapableSYNRX", 3L, "MPCapableSYNTX", 5L, "Blackhole", 1L), c);
        assertTrue(DoctorCommand.counters(null).isEmpty());
    }
}
