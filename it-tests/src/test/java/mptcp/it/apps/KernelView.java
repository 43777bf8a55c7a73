package mptcp.it.apps;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * What the kernel says about this process's own sockets, for test apps: the fds of /proc/self/fd and their SO_PROTOCOL
 * (6 TCP, 262 MPTCP) read with getsockopt through the app's own jnr-ffi, never from the agent.
 */
public final class KernelView {
    private static final int SOL_SOCKET = 1;
    private static final int SO_TYPE = 3;
    private static final int SO_PROTOCOL = 38;
    private static final int SO_DOMAIN = 39;
    private static final int SOCK_STREAM = 1;

    /** getsockopt(2) for an int option. */
    public interface C {
        int getsockopt(int fd, int level, int name, @Out IntByReference value, IntByReference length);
    }

    private static final C LIBC = LibraryLoader.create(C.class).load("c");

    private KernelView() {
    }

    /** fd → "socket:[inode]" for every socket fd of this process. */
    public static Map<Integer, String> sockets() {
        Map<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:")) {
                        out.put(Integer.parseInt(fd.getFileName().toString()), target);
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /**
     * SO_PROTOCOL of each IPv4/IPv6 stream socket that is not in {@code before} (by inode: a socket whose protocol was
     * swapped under the same fd number is new too), in fd order (the order they were made in), comma-separated.
     */
    public static String newProtocols(Map<Integer, String> before) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Integer, String> e : sockets().entrySet()) {
            int fd = e.getKey();
            if (before.containsValue(e.getValue())) {
                continue;
            }
            int domain = get(fd, SO_DOMAIN);
            if ((domain == 2 || domain == 10) && get(fd, SO_TYPE) == SOCK_STREAM) {
                out.add(String.valueOf(get(fd, SO_PROTOCOL)));
            }
        }
        return String.join(",", out);
    }

    /** An int socket option, or -1 on error. */
    public static int get(int fd, int name) {
        IntByReference value = new IntByReference();
        IntByReference length = new IntByReference(4);
        return LIBC.getsockopt(fd, SOL_SOCKET, name, value, length) == 0 ? value.getValue() : -1;
    }
}
