package mptcp.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The test bed of the connect race (issue 23): a server namespace and a client namespace made by the test, one veth
 * between them, kernel defaults in the client namespace. The server has three addresses on its end:
 * <ul>
 *   <li>{@link #good}: answers MPTCP;</li>
 *   <li>{@link #blackholed}: {@code iptables} in the server namespace drops every SYN carrying TCP option 30 (MPTCP)
 *       to it, as a middlebox that drops MPTCP does; plain TCP SYNs pass;</li>
 *   <li>{@link #slow}: every packet the server sends from it comes back through a delay line (a TUN device,
 *       {@link mptcp.it.servers.DelayLine}, policy routing) {@link #SLOW_MILLIS} later: a far destination whose
 *       SYN-ACKs arrive late (this kernel has no netem).</li>
 * </ul>
 * Everything is deleted by {@link #close} (deleting the namespaces removes the veth, the rules and the TUN device).
 */
public final class BlackholeBed implements AutoCloseable {
    public static final int SLOW_MILLIS = 200;

    public final Netns server;
    public final Netns client;
    public final String good;
    public final String blackholed;
    public final String slow;
    /**
     * An address nothing answers and nothing refuses: the client's neighbour entry for it is permanent, with a MAC no
     * interface has, so its SYNs leave and are dropped silently (an address without a neighbour would end each connect
     * with "no route to host" once address resolution fails, after about 3 s, at a moment the test does not choose).
     */
    public final String silent;
    public final String clientIp;
    private final List<ChildJvm> children = new ArrayList<>();

    public BlackholeBed() throws IOException, InterruptedException {
        Prerequisites.require("connect race test bed", Prerequisites.missing(List.of("ip", "iptables", "nstat", "sysctl")));
        server = new Netns();
        Netns c = null;
        try {
            c = new Netns();
            int n = ThreadLocalRandom.current().nextInt(1, 250);
            String net = "10.78." + n + ".";
            good = net + "1";
            blackholed = net + "2";
            slow = net + "3";
            silent = net + "50";
            clientIp = net + "100";
            String sv = "v" + server.name.substring(4);
            String cv = "v" + c.name.substring(4);
            Proc.check(List.of("ip", "link", "add", sv, "netns", server.name, "type", "veth", "peer", "name", cv,
                    "netns", c.name));
            for (String a : List.of(good, blackholed, slow)) {
                server.exec("ip", "addr", "add", a + "/24", "dev", sv);
            }
            server.exec("ip", "link", "set", sv, "up");
            c.exec("ip", "addr", "add", clientIp + "/24", "dev", cv);
            c.exec("ip", "link", "set", cv, "up");
            c.exec("ip", "neigh", "replace", silent, "lladdr", "02:00:00:00:00:32", "dev", cv, "nud", "permanent");
            server.exec("iptables", "-A", "INPUT", "-d", blackholed, "-p", "tcp", "--syn", "-m", "tcp",
                    "--tcp-option", "30", "-j", "DROP");
            delayLine(server, slow);
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            children.forEach(ChildJvm::close);
            server.close();
            if (c != null) {
                c.close();
            }
            throw e;
        }
        client = c;
    }

    /** Packets from {@code address} leave {@code ns} through a delay line of {@link #SLOW_MILLIS}. */
    private void delayLine(Netns ns, String address) throws IOException, InterruptedException {
        String tun = "dl" + ns.name.substring(4);
        ChildJvm line = ChildJvm.javaIn(ns, Jdk.JDK17, List.of(), "mptcp.it.servers.DelayLine", tun,
                String.valueOf(SLOW_MILLIS)).named("delay-line");
        children.add(line);
        line.expect("READY");
        ns.exec("ip", "link", "set", tun, "up");
        ns.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf." + tun + ".rp_filter=0", "net.ipv4.conf." + tun + ".accept_local=1");
        ns.exec("ip", "route", "add", "default", "dev", tun, "table", "100");
        // locally sent packets only: what comes back in through the TUN device is forwarded by the main table
        ns.exec("ip", "rule", "add", "from", address, "iif", "lo", "lookup", "100");
    }

    /** A kernel counter of namespace {@code ns} ({@code nstat}, absolute value, history untouched): 0 when absent. */
    public static long counter(Netns ns, String name) throws IOException, InterruptedException {
        String out = ns.exec("nstat", "-a", "-s", "-z", name);
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(name)) {
                return Long.parseLong(f[1]);
            }
        }
        return 0;
    }

    /**
     * Ends the kernel's blackhole state of the client namespace (writing {@code net.mptcp.blackhole_timeout}, any
     * value, resets its count of active-MPTCP disables: net/mptcp/ctrl.c), for a test that let the kernel turn MPTCP off.
     */
    public void resetKernelBlackhole() throws IOException, InterruptedException {
        client.exec("sysctl", "-q", "-w", "net.mptcp.blackhole_timeout=3600");
    }

    /** A child JVM to stop with the bed. */
    public ChildJvm keep(ChildJvm child) {
        children.add(child);
        return child;
    }

    @Override
    public void close() {
        for (ChildJvm c : children) {
            c.close();
        }
        children.clear();
        if (client != null) {
            client.close();
        }
        server.close();
    }
}
