package mptcp.agent.report;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import mptcp.agent.policy.Connections;

/**
 * The target side of {@code status <pid>}: the CLI loads the agent jar again into the JVM with the argument
 * {@code @status-stream=<path>}, where {@code path} is a UNIX socket the CLI listens on in a directory of this JVM's
 * /tmp that only the CLI's user can change (root's, mode 0711, or this JVM's user's, 0700); the agent already running here (same class loader) connects to
 * it and writes its {@link Report} in the wire form, line by line as each socket is classified, then {@value #END}:
 * memory here stays the same whatever the number of connections (two passes over /proc/self/fd: listeners first,
 * then connections, each in fd order), and a CLI that stops reading makes it give up after {@value #STALL_MS} ms
 * instead of holding the JVM's attach listener. No port, no thread, no system property.
 *
 * <p>Older CLIs asked with {@code @status=<nonce>} and read the whole report back from the system property
 * {@code mptcp-agent.status.<nonce>} (removed with {@code @status-done=<nonce>}); still answered, for them.
 */
public final class StatusRequest {
    public static final String STREAM = "@status-stream=";
    public static final String REQUEST = "@status=";
    public static final String DONE = "@status-done=";
    public static final String PROPERTY = "mptcp-agent.status.";
    /** The last line of a complete stream. */
    public static final String END = "#end";
    /** The directory names the CLI makes for the channel, in this JVM's /tmp. */
    public static final String DIRECTORY_PREFIX = ".mptcp-agent-status.";
    static final long STALL_MS = 10_000;

    private StatusRequest() {
    }

    /** True when {@code args} (agentmain arguments) are a status request rather than agent options. */
    public static boolean is(String args) {
        return args != null && (args.startsWith(STREAM) || args.startsWith(REQUEST) || args.startsWith(DONE));
    }

    public static void handle(String args) {
        if (args.startsWith(STREAM)) {
            try {
                stream(args.substring(STREAM.length()));
            } catch (IOException | RuntimeException e) {
                // the CLI went away or stopped reading: it says so on its side
            }
            return;
        }
        if (args.startsWith(DONE)) {
            System.clearProperty(PROPERTY + nonce(args.substring(DONE.length())));
            return;
        }
        String nonce = nonce(args.substring(REQUEST.length()));
        // at most one report is ever left behind (if a status command died before clearing its own)
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(PROPERTY)) {
                System.clearProperty(name);
            }
        }
        String report;
        try {
            report = StatusReport.now().wire();
        } catch (Throwable t) {
            report = "error: " + t + "\n";
        }
        System.setProperty(PROPERTY + nonce, report);
    }

    private static String nonce(String s) {
        if (!s.matches("[0-9a-f]{1,32}")) {
            throw new IllegalArgumentException("bad status nonce");
        }
        return s;
    }

    /**
     * Connects to the CLI's socket {@code path} — only one in a directory root owns and only root can write to, or one
     * this JVM's user owns with no access for others, so that no other user can have put it there to receive the
     * report — and writes the report to it.
     */
    private static void stream(String path) throws IOException {
        Path socket = Path.of(path);
        Path dir = socket.getParent();
        if (!socket.isAbsolute() || dir == null || !dir.getFileName().toString().startsWith(DIRECTORY_PREFIX)
                || path.contains("/../") || path.contains("/./")) {
            return;
        }
        Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
        int owner = (Integer) a.get("uid");
        int mode = (Integer) a.get("mode");
        boolean trusted = owner == 0 ? (mode & 0022) == 0 : owner == euid() && (mode & 0077) == 0;
        if ((mode & 0170000) != 0040000 || !trusted) {
            return;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX); Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_WRITE);
            Out out = new Out(ch, selector);
            try {
                StatusReport.items().forEach((k, v) -> out.line(k + ": " + v));
                for (Map<String, String> row : mptcp.agent.paths.Paths.table()) {
                    out.line(Report.line(Report.PATH, row));
                }
                Set<String> fallbacksSeen = new HashSet<>();
                for (boolean listeners : new boolean[] {true, false}) {
                    eachSocketFd(fd -> {
                        Map<String, String> r;
                        try {
                            r = StatusReport.row(fd);
                        } catch (Throwable t) {
                            return; // closed meanwhile, or the native binding is broken
                        }
                        if (r == null || r.get("state").equals("LISTEN") != listeners) {
                            return;
                        }
                        if (!listeners && Connections.acceptedFallback(r.get("local") + " " + r.get("remote"))) {
                            fallbacksSeen.add(r.get("local") + " " + r.get("remote"));
                        }
                        out.line(Report.line(Report.SOCKET, r));
                    });
                }
                Connections.retainAcceptedFallbacks(fallbacksSeen);
            } catch (Stalled e) {
                return;
            } catch (Throwable t) {
                out.line("error: " + t);
            }
            out.line(END);
            out.flush();
        }
    }

    /** Each socket fd of this process, in fd order, without collecting them. */
    private static void eachSocketFd(java.util.function.IntConsumer action) throws IOException {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:[")) {
                        action.accept(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // closed meanwhile
                }
            }
        }
    }

    private static int euid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return -1;
    }

    /** The CLI stopped reading for {@link #STALL_MS}. */
    private static final class Stalled extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    /** Lines into a bounded buffer, written out without blocking longer than STALL_MS at a time. */
    private static final class Out {
        private final SocketChannel ch;
        private final Selector selector;
        private final ByteBuffer buffer = ByteBuffer.allocate(32 * 1024);

        Out(SocketChannel ch, Selector selector) {
            this.ch = ch;
            this.selector = selector;
        }

        void line(String s) {
            byte[] b = (s.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8);
            if (b.length > buffer.remaining()) {
                flush();
            }
            if (b.length > buffer.capacity()) {
                b = java.util.Arrays.copyOf(b, buffer.capacity());
                b[b.length - 1] = '\n';
            }
            buffer.put(b);
        }

        void flush() {
            buffer.flip();
            try {
                while (buffer.hasRemaining()) {
                    if (ch.write(buffer) == 0) {
                        if (selector.select(STALL_MS) == 0) {
                            throw new Stalled();
                        }
                        selector.selectedKeys().clear();
                    }
                }
            } catch (IOException e) {
                throw new Stalled();
            } finally {
                buffer.clear();
            }
        }
    }
}
