package mptcp.agent.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import mptcp.agent.log.Log;
import mptcp.sys.Errno;

/**
 * Per-JVM counters of what the agent did and what the kernel negotiated. LongAdder: contention-free on the socket
 * and connection paths; an increment allocates nothing. Read by {@code status <pid>} and the MBean (same names).
 */
public final class Stats {
    /** Sockets created as MPTCP (listeners and outgoing sockets; accepted sockets are not created by the JDK). */
    public static final LongAdder SOCKETS_MPTCP = new LongAdder();
    /** Creations that stayed TCP because MPTCP was refused, by reason ("ENOPROTOOPT", ..., "native"). */
    private static final Map<String, LongAdder> FALLBACKS = new ConcurrentHashMap<>();
    /**
     * Connections by what the kernel says they are and by direction (outbound: connected by the application;
     * inbound: accepted): MPTCP negotiated; fallback, an MPTCP socket whose peer answered without MPTCP (it runs as
     * TCP; inbound: a plain TCP client on an MPTCP listener); tcp, a plain TCP socket (kept TCP by a rule, the mode,
     * or made before an attach).
     */
    public static final LongAdder MPTCP_OUTBOUND = new LongAdder();
    public static final LongAdder MPTCP_INBOUND = new LongAdder();
    public static final LongAdder FALLBACK_OUTBOUND = new LongAdder();
    public static final LongAdder FALLBACK_INBOUND = new LongAdder();
    public static final LongAdder TCP_OUTBOUND = new LongAdder();
    public static final LongAdder TCP_INBOUND = new LongAdder();
    /** Listeners the application had before an attach, handed over to MPTCP listeners / kept TCP (with a reason). */
    public static final LongAdder LISTENERS_CONVERTED = new LongAdder();
    public static final LongAdder LISTENERS_KEPT_TCP = new LongAdder();
    /**
     * MPTCP listeners handed back to TCP listeners at a run-time change ({@code enabled=false}, {@code mode=client}, a
     * new {@code tcp bind} rule), and those that a change wanted TCP but stayed MPTCP (with a reason).
     */
    public static final LongAdder LISTENERS_HANDED_BACK = new LongAdder();
    public static final LongAdder LISTENERS_KEPT_MPTCP = new LongAdder();
    private static final Map<String, LongAdder> CONVERSIONS = new ConcurrentHashMap<>();
    private static final Map<String, LongAdder> DEVIATIONS = new ConcurrentHashMap<>();

    private Stats() {
    }

    public static void fallback(int errno) {
        String reason = errno < 0 ? "native" : Errno.describe(errno).split(" ")[0];
        FALLBACKS.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    /**
     * Hook for the socket-option compatibility layer: a socket option was converted so that it works on an MPTCP
     * socket as on TCP (e.g. "TCP_NODELAY"). Counted per option; logged at DEBUG.
     */
    public static void optionConversion(String option) {
        CONVERSIONS.computeIfAbsent(option, k -> new LongAdder()).increment();
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("socket option converted for MPTCP: " + option);
        }
    }

    /**
     * Hook for the socket-option compatibility layer: something behaves differently on MPTCP than on TCP and could
     * not be converted (e.g. "SO_OOBINLINE ignored"). Counted per kind; logged at DEBUG.
     */
    public static void optionDeviation(String what) {
        DEVIATIONS.computeIfAbsent(what, k -> new LongAdder()).increment();
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("socket option deviation on MPTCP: " + what);
        }
    }

    /** All counters by their public name (status keys, JSON fields, MBean attributes), in display order. */
    public static Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("sockets_mptcp", SOCKETS_MPTCP.sum());
        out.put("sockets_tcp_fallback", total(FALLBACKS));
        sums(FALLBACKS).forEach((k, v) -> out.put("sockets_tcp_fallback_" + k, v));
        long mptcpIn = MPTCP_INBOUND.sum();
        long mptcpOut = MPTCP_OUTBOUND.sum();
        long fallbackIn = FALLBACK_INBOUND.sum();
        long fallbackOut = FALLBACK_OUTBOUND.sum();
        out.put("connections_mptcp_outbound", mptcpOut);
        out.put("connections_mptcp_inbound", mptcpIn);
        out.put("connections_fallback_outbound", fallbackOut);
        out.put("connections_fallback_inbound", fallbackIn);
        out.put("connections_tcp_outbound", TCP_OUTBOUND.sum());
        out.put("connections_tcp_inbound", TCP_INBOUND.sum());
        // the names of 0.1.0, kept for one release (docs/observability.md): connections_tcp meant the fallbacks
        out.put("connections_mptcp", mptcpOut + mptcpIn);
        out.put("connections_mptcp_accepted", mptcpIn);
        out.put("connections_tcp", fallbackOut + fallbackIn);
        out.put("connections_tcp_accepted", fallbackIn);
        out.put("listeners_converted", LISTENERS_CONVERTED.sum());
        out.put("listeners_kept_tcp", LISTENERS_KEPT_TCP.sum());
        out.put("listeners_handed_back", LISTENERS_HANDED_BACK.sum());
        out.put("listeners_kept_mptcp", LISTENERS_KEPT_MPTCP.sum());
        out.put("connections_tcp_rule", Decisions.CONNECTIONS_TCP_RULE.sum());
        out.put("listeners_tcp_rule", Decisions.LISTENERS_TCP_RULE.sum());
        out.put("option_conversions", total(CONVERSIONS));
        sums(CONVERSIONS).forEach((k, v) -> out.put("option_conversions_" + name(k), v));
        out.put("option_deviations", total(DEVIATIONS));
        sums(DEVIATIONS).forEach((k, v) -> out.put("option_deviations_" + name(k), v));
        return out;
    }

    /** A free-form reason as part of a key: letters, digits and '_' only. */
    private static String name(String what) {
        return what.replaceAll("[^A-Za-z0-9_]+", "_");
    }

    private static long total(Map<String, LongAdder> m) {
        return m.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private static Map<String, Long> sums(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

}
