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

        Entry(String protocol, String state, String local, String peer) {
            this.protocol = protocol;
            this.state = state;
            this.local = local;
            this.peer = peer;
        }

        public int localPort() {
            return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
        }

        @Override
        public String toString() {
            return protocol + " " + state + " " + local + " " + peer;
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
                out.add(new Entry(protocol, m.group(1), m.group(2), m.group(3)));
            }
        }
    }
}
