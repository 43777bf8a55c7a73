package mptcp.agent;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import mptcp.sys.Errno;

/** Per-JVM counters of what the agent did. LongAdder: contention-free on the socket creation path. */
final class Stats {
    static final LongAdder SOCKETS_MPTCP = new LongAdder();
    /** Creations that stayed TCP because MPTCP was refused, by reason ("ENOPROTOOPT", ..., "native"). */
    private static final Map<String, LongAdder> FALLBACKS = new ConcurrentHashMap<>();

    private Stats() {
    }

    static void fallback(int errno) {
        String reason = errno < 0 ? "native" : Errno.describe(errno).split(" ")[0];
        FALLBACKS.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    static long fallbacks() {
        return FALLBACKS.values().stream().mapToLong(LongAdder::sum).sum();
    }

    static Map<String, Long> fallbacksByReason() {
        Map<String, Long> out = new TreeMap<>();
        FALLBACKS.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** One socket option (or urgent-data) deviation or conversion, by what happened, e.g. "SO_OOBINLINE tcp". */
    static void optionDeviation(String what) { OPTION_DEVIATIONS.computeIfAbsent(what, k -> new LongAdder()).increment(); }
    static final Map<String, LongAdder> OPTION_DEVIATIONS = new ConcurrentHashMap<>();
}
