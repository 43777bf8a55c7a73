package mptcp.agent.listeners;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Connection requests (SYN_RECV) on a listener's port, from /proc/self/net/tcp{,6} (this network namespace): a
 * request socket is listed there with its remote address and port until the handshake completes or is dropped.
 * Requests of other listeners on the same port (other addresses) are included: waiting for them too only costs time.
 */
final class Handshakes {
    private static final String SYN_RECV = "03";

    private Handshakes() {
    }

    /** "remote-address:port" of each request in SYN_RECV on the listener's port. */
    static Set<String> pending(Listener l) {
        String port = String.format(Locale.ROOT, ":%04X", (l.address[2] & 0xFF) << 8 | (l.address[3] & 0xFF));
        Set<String> out = new HashSet<>();
        for (String table : new String[] {"tcp", "tcp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Paths.get("/proc/self/net", table));
            } catch (IOException e) {
                continue; // no IPv6
            }
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[3].equals(SYN_RECV) && f[1].endsWith(port)) {
                    out.add(f[2]);
                }
            }
        }
        return out;
    }
}
