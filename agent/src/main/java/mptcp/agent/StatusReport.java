package mptcp.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * The status of the agent in this JVM, computed in this JVM on request (CLI {@code status <pid>}, MBean operation):
 * counters, whether MPTCP sockets can be made now, and the live TCP/MPTCP sockets of the process, each classified by
 * asking the kernel about the process's own fds ({@code /proc/self/fd}, getsockname/getpeername, SO_PROTOCOL,
 * TCP_IS_MPTCP, MPTCP_INFO).
 *
 * <p>Wire format (a system property value read by the CLI): one {@code key: value} line per item, then one
 * {@code socket: k=v k=v ...} line per socket.
 */
final class StatusReport {
    private StatusReport() {
    }

    /** One live listening or connected TCP/MPTCP socket of this process. */
    static final class Row {
        final Map<String, String> fields = new LinkedHashMap<>();

        String get(String key) {
            return fields.get(key);
        }
    }

    static String wire() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : items().entrySet()) {
            b.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        for (Row r : sockets()) {
            b.append("socket:");
            r.fields.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            b.append('\n');
        }
        return b.toString();
    }

    /** The key: value items, in display order. */
    static Map<String, String> items() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("version", Agent.VERSION);
        String active = System.getProperty(Agent.ACTIVE_PROPERTY, "");
        out.put("config", active.substring(active.indexOf(';') + 1).trim());
        out.put("mptcp_available", mptcpAvailable());
        Stats.snapshot().forEach((k, v) -> out.put(k, String.valueOf(v)));
        out.put("listeners_converted", String.valueOf(mptcp.agent.listeners.Listeners.CONVERTED.get()));
        out.put("listeners_kept_tcp", String.valueOf(mptcp.agent.listeners.Listeners.KEPT.get()));
        out.put("jmx", Jmx.state());
        return out;
    }

    /** "yes", or "no (why)": whether this JVM can create an MPTCP socket right now (a probe socket, closed at once). */
    static String mptcpAvailable() {
        int fd;
        try {
            fd = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
        } catch (Throwable t) {
            return "no (native binding failed: " + t + ")";
        }
        if (fd >= 0) {
            Sock.close(fd);
            return "yes";
        }
        int errno = -fd;
        String why = Errno.describe(errno).split(" ")[0];
        switch (errno) {
            case Errno.ENOPROTOOPT:
                return "no (" + why + ": net.mptcp.enabled=0 in the JVM's network namespace)";
            case Errno.EPROTONOSUPPORT:
            case Errno.EINVAL:
                return "no (" + why + ": the kernel has no MPTCP)";
            case Errno.EACCES:
            case Errno.EPERM:
                return "no (" + why + ": denied by a security module)";
            default:
                return "no (" + Errno.describe(errno) + ")";
        }
    }

    /** The live TCP/MPTCP sockets of this process: listeners first, then connections; by local address. */
    static List<Row> sockets() {
        List<Row> rows = new ArrayList<>();
        Set<String> liveKeys = new HashSet<>();
        for (int fd : socketFds()) {
            Row r;
            try {
                r = row(fd);
            } catch (Throwable t) {
                continue; // closed meanwhile, or the native binding is broken
            }
            if (r != null) {
                rows.add(r);
                if (r.get("remote") != null) {
                    liveKeys.add(r.get("local") + " " + r.get("remote"));
                }
            }
        }
        Connections.ACCEPTED_FALLBACKS.retainAll(liveKeys);
        rows.sort((a, b) -> {
            int c = Boolean.compare(b.get("state").equals("LISTEN"), a.get("state").equals("LISTEN"));
            return c != 0 ? c : (a.get("local") + a.get("remote")).compareTo(b.get("local") + b.get("remote"));
        });
        return rows;
    }

    private static Row row(int fd) {
        if (!Addresses.isTcpFamily(fd)) {
            return null;
        }
        int protocol = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
        boolean listening = Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_ACCEPTCONN) == 1;
        String local = Addresses.of(fd, false);
        String remote = listening ? "*" : Addresses.of(fd, true);
        if (local == null || remote == null) {
            return null; // not connected (yet, or any more)
        }
        Row r = new Row();
        r.fields.put("fd", String.valueOf(fd));
        r.fields.put("state", listening ? "LISTEN" : state(fd));
        r.fields.put("local", local);
        r.fields.put("remote", remote);
        if (listening) {
            r.fields.put("protocol", protocol == LibC.IPPROTO_MPTCP ? "mptcp" : "tcp");
            return r;
        }
        switch (Connections.negotiated(fd)) {
            case Connections.MPTCP:
                r.fields.put("protocol", "mptcp");
                mptcpInfo(fd, r);
                break;
            case Connections.FALLBACK:
                r.fields.put("protocol", "mptcp→tcp");
                r.fields.put("subflows", "1");
                break;
            default:
                r.fields.put("protocol", Connections.ACCEPTED_FALLBACKS.contains(local + " " + remote) ? "mptcp→tcp" : "tcp");
                r.fields.put("subflows", "1");
        }
        return r;
    }

    private static final String[] STATES = {"?", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
        "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"};

    /** The state as ss names it, from tcpi_state (first byte of TCP_INFO, which MPTCP sockets answer too). */
    private static String state(int fd) {
        byte[] info = new byte[8];
        int n = Sock.getBytes(fd, LibC.SOL_TCP, TCP_INFO, info);
        int s = n >= 1 ? info[0] & 0xff : 1;
        return s < STATES.length ? STATES[s] : "ESTAB";
    }

    private static final int TCP_INFO = 11;

    /** Fields of struct mptcp_info (include/uapi/linux/mptcp.h), as far as this kernel fills it. */
    private static void mptcpInfo(int fd, Row r) {
        byte[] b = new byte[96];
        int n = Sock.getBytes(fd, LibC.SOL_MPTCP, LibC.MPTCP_INFO, b);
        if (n < 4) {
            return;
        }
        ByteBuffer info = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        int additional = info.get(0) & 0xff;
        // mptcpi_subflows counts the additional subflows; mptcpi_subflows_total (Linux 6.10+) all of them
        r.fields.put("subflows", String.valueOf(n > 80 ? info.get(80) & 0xff : additional + 1));
        r.fields.put("subflows_additional", String.valueOf(additional));
        r.fields.put("subflows_max", String.valueOf(info.get(3) & 0xff));
        r.fields.put("add_addr_signal", String.valueOf(info.get(1) & 0xff));
        r.fields.put("add_addr_accepted", String.valueOf(info.get(2) & 0xff));
        if (n >= 16) {
            r.fields.put("token", Integer.toHexString(info.getInt(12)));
        }
        if (n >= 43) {
            r.fields.put("local_addr_used", String.valueOf(info.get(40) & 0xff));
            r.fields.put("csum_enabled", String.valueOf(info.get(42) & 0xff));
        }
        if (n >= 80) {
            r.fields.put("retransmits", String.valueOf(Integer.toUnsignedLong(info.getInt(44))));
            r.fields.put("bytes_retrans", Long.toUnsignedString(info.getLong(48)));
            r.fields.put("bytes_sent", Long.toUnsignedString(info.getLong(56)));
            r.fields.put("bytes_received", Long.toUnsignedString(info.getLong(64)));
            r.fields.put("bytes_acked", Long.toUnsignedString(info.getLong(72)));
        }
    }

    /** fd numbers of this process that are sockets. */
    private static List<Integer> socketFds() {
        List<Integer> out = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:[")) {
                        out.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            Log.warn("cannot list /proc/self/fd: " + e);
        }
        return out;
    }
}
