package mptcp.agent.os;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What /proc tells about a process's sockets: its socket fds and its TCP listeners. */
public final class ProcFs {
    private ProcFs() {
    }

    /**
     * The socket fds of process {@code pid} ("self" for this one) with their inode numbers, in fd order; empty when
     * /proc cannot be read (another user's process).
     */
    public static Map<Integer, String> socketFds(String pid) {
        Map<Integer, String> out = new java.util.TreeMap<>();
        fds(pid, "socket:[").forEach((fd, link) -> out.put(fd, link.substring(8, link.length() - 1)));
        return out;
    }

    /**
     * The fds of process {@code pid} ("self" for this one) whose /proc link starts with {@code prefix} (e.g.
     * "socket:[", "anon_inode:[eventpoll]"), with that link, in fd order; empty when /proc cannot be read.
     */
    public static Map<Integer, String> fds(String pid, String prefix) {
        Map<Integer, String> out = new java.util.TreeMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc", pid, "fd"))) {
            for (Path fd : fds) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith(prefix)) {
                        out.put(Integer.parseInt(fd.getFileName().toString()), link);
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return out;
    }

    /**
     * "address:port" of each TCP socket of process {@code pid} in state LISTEN (its fds matched against
     * /proc/PID/net/tcp{,6}).
     */
    public static List<String> tcpListeners(String pid) {
        java.util.Set<String> inodes = new java.util.HashSet<>(socketFds(pid).values());
        List<String> out = new ArrayList<>();
        for (String table : new String[] {"tcp", "tcp6"}) {
            try {
                for (String line : Files.readAllLines(Paths.get("/proc", pid, "net", table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                        out.add(Addresses.fromProcNet(f[1]));
                    }
                }
            } catch (IOException ignored) {
                // no IPv6
            }
        }
        return out;
    }
}
