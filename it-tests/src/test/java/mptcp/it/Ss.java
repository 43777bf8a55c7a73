package mptcp.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's view of a process's stream sockets, from {@code ss} (inet_diag): which are MPTCP (IPPROTO_MPTCP) and
 * which are plain TCP. {@code ss -t -p} also lists the TCP subflows of an MPTCP socket under the owning process (same
 * addresses), so a TCP entry counts as plain TCP only when no MPTCP entry has the same state and addresses.
 */
public final class Ss {
    /** One socket owned by the process. */
    public static final class Entry {
        public final String protocol; // "mptcp" or "tcp"
        public final String state;    // LISTEN, ESTAB, ...
        public final String local;
        public final String peer;
        /** A TCP socket the kernel marks tcp-ulp-mptcp: a subflow of an MPTCP connection (only from {@link #connected}). */
        public final boolean subflow;

        Entry(String protocol, String state, String local, String peer, boolean subflow) {
            this.protocol = protocol;
            this.state = state;
            this.local = local;
            this.peer = peer;
            this.subflow = subflow;
        }

        public int localPort() {
            return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
        }

        /** The local IP address, IPv4 also for a dual-stack socket ({@code [::ffff:10.91.3.2]:port} → 10.91.3.2). */
        public String localAddress() {
            return address(local);
        }

        public String peerAddress() {
            return address(peer);
        }

        private static String address(String endpoint) {
            String a = endpoint.substring(0, endpoint.lastIndexOf(':')).replace("[", "").replace("]", "");
            return a.startsWith("::ffff:") ? a.substring(7) : a;
        }

        @Override
        public String toString() {
            return protocol + " " + state + " " + local + " " + peer + (subflow ? " tcp-ulp-mptcp" : "");
        }
    }

    private static final Pattern LINE = Pattern.compile("^(\\S+)\\s+\\d+\\s+\\d+\\s+(\\S+)\\s+(\\S+)\\s+.*users:\\(\\((.*)\\)\\)");

    private Ss() {
    }

    /** Sockets owned by {@code pid}; {@code netns} is a namespace name or null for this one. */
    public static List<Entry> sockets(long pid, String netns) throws IOException, InterruptedException {
        List<Entry> out = new ArrayList<>();
        collect(out, "mptcp", "-M", pid, netns);
        List<Entry> tcp = new ArrayList<>();
        collect(tcp, "tcp", "-t", pid, netns);
        for (Entry t : tcp) {
            if (out.stream().noneMatch(m -> m.state.equals(t.state) && m.local.equals(t.local)
                    && (t.state.equals("LISTEN") || m.peer.equals(t.peer)))) {
                out.add(t);
            }
        }
        return out;
    }

    public static List<Entry> sockets(long pid) throws IOException, InterruptedException {
        return sockets(pid, null);
    }

    /**
     * Connected TCP sockets in namespace {@code netns} with local or remote port {@code port} ({@code ss -tni}), each
     * with the kernel's tcp-ulp-mptcp mark of an MPTCP subflow.
     */
    public static List<Entry> connected(String netns, int port) throws IOException, InterruptedException {
        String out = Proc.check(List.of("ip", "netns", "exec", netns, "ss", "-tniH", "state", "connected",
                "( sport = :" + port + " or dport = :" + port + " )"));
        List<Entry> result = new ArrayList<>();
        String[] head = null;
        StringBuilder info = new StringBuilder();
        for (String l : (out + "\nEND").split("\n")) {
            if (l.isBlank()) {
                continue;
            }
            if (!Character.isWhitespace(l.charAt(0))) { // a socket's first line; its details follow indented
                if (head != null) {
                    result.add(new Entry("tcp", head[0], head[3], head[4], info.toString().contains("tcp-ulp-mptcp")));
                }
                head = l.trim().split("\\s+");
                info.setLength(0);
            } else {
                info.append(l).append(' ');
            }
        }
        return result;
    }

    /** {@code ss -Mni} in namespace {@code netns}: the MPTCP-level sockets, with their MPTCP_INFO (subflows:N, token). */
    public static String mptcpInfo(String netns) throws IOException, InterruptedException {
        return Proc.check(List.of("ip", "netns", "exec", netns, "ss", "-Mni"));
    }

    public static long count(List<Entry> entries, String protocol, String state) {
        return entries.stream().filter(e -> e.protocol.equals(protocol) && e.state.equals(state)).count();
    }

    private static void collect(List<Entry> out, String protocol, String flag, long pid, String netns)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.addAll(List.of("ss", "-H", "-n", "-a", "-p", flag));
        for (String line : Proc.check(cmd).split("\n")) {
            Matcher m = LINE.matcher(line.trim());
            if (m.find() && m.group(4).contains("pid=" + pid + ",")) {
                out.add(new Entry(protocol, m.group(1), m.group(2), m.group(3), false));
            }
        }
    }
}
