package mptcp.agent.paths;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Enumeration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which network interface a local address belongs to, in this JVM's network namespace: the interface that holds the
 * address ({@code ip addr}), e.g. the {@code dev} of an MPTCP endpoint. Read with the JDK's {@link NetworkInterface}
 * (the kernel's address list: SIOCGIFCONF for IPv4, /proc/net/if_inet6 for IPv6) and kept in a table that is read
 * again when an address is not in it (at most every {@link #MISS_REFRESH_MS}) and every {@link #REFRESH_MS} (an
 * address moved to another interface is attributed to the new one from then on). An address removed since keeps its
 * last interface (its subflows may outlive it). A link-local IPv6 address is named by its scope (the interface index
 * the kernel gives with it), since the same fe80:: address may be on several interfaces.
 */
class Interfaces {
    /** The name used when no interface holds the address (removed before it was ever seen, or unreadable). */
    static final String UNKNOWN = "unknown";
    static final long MISS_REFRESH_MS = 1000;
    static final long REFRESH_MS = 30_000;
    /** More distinct addresses than this are not remembered (a bound on memory; they are looked up each time). */
    private static final int MAX = 4096;

    private final Map<String, String> byAddress = new ConcurrentHashMap<>();
    /** The last address found and its interface: most connections use one or two local addresses. */
    private volatile Hit last;
    private volatile long refreshedAt = Long.MIN_VALUE / 2;

    /** The interface holding {@code ip} (4 or 16 bytes; {@code scope}: a link-local address's interface index). */
    String of(byte[] ip, int scope) {
        if (ip == null) {
            return UNKNOWN;
        }
        if (scope != 0 && ip.length == 16 && ip[0] == (byte) 0xfe && (ip[1] & 0xc0) == 0x80) {
            return byIndex(scope);
        }
        Hit h = last;
        if (h != null && java.util.Arrays.equals(h.ip, ip)) {
            return h.name;
        }
        String key = key(ip);
        String name = byAddress.get(key);
        if (name == null && now() - refreshedAt >= MISS_REFRESH_MS) {
            refresh();
            name = byAddress.get(key);
        }
        if (name == null) {
            return UNKNOWN;
        }
        last = new Hit(ip.clone(), name);
        return name;
    }

    private static final class Hit {
        final byte[] ip;
        final String name;

        Hit(byte[] ip, String name) {
            this.ip = ip;
            this.name = name;
        }
    }

    /** Reads the table again if it is older than {@link #REFRESH_MS}. */
    void refreshIfOld() {
        if (now() - refreshedAt >= REFRESH_MS) {
            refresh();
        }
    }

    synchronized void refresh() {
        refreshedAt = now();
        try {
            Enumeration<NetworkInterface> all = NetworkInterface.getNetworkInterfaces();
            while (all != null && all.hasMoreElements()) {
                NetworkInterface ni = all.nextElement();
                for (Enumeration<InetAddress> a = ni.getInetAddresses(); a.hasMoreElements();) {
                    byte[] ip = a.nextElement().getAddress();
                    String key = key(ip.length == 16 ? View.unmapped(ip) : ip);
                    if (byAddress.size() < MAX || byAddress.containsKey(key)) {
                        byAddress.put(key, ni.getName());
                    }
                }
            }
        } catch (Exception | LinkageError e) {
            // no interface list (a security manager, an odd runtime): addresses stay unknown
        }
        last = null; // after the table changed (a look between the two may keep an old answer until the next one)
    }

    private static String byIndex(int index) {
        try {
            NetworkInterface ni = NetworkInterface.getByIndex(index);
            return ni != null ? ni.getName() : UNKNOWN;
        } catch (Exception | LinkageError e) {
            return UNKNOWN;
        }
    }

    /** For tests: what the table says, without refreshing it. */
    void put(byte[] ip, String name) {
        byAddress.put(key(ip), name);
        last = null;
        refreshedAt = now();
    }

    /** The address's bytes as a string (one char per byte): a map key that costs one small copy. */
    static String key(byte[] ip) {
        return new String(ip, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    long now() {
        return System.nanoTime() / 1_000_000;
    }
}
