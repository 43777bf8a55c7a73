package mptcp.agent.cli.attach;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

import mptcp.agent.report.StatusRequest;

/**
 * The CLI's end of the status stream ({@link StatusRequest}): a UNIX socket (the target's user's) this command listens
 * on in a fresh directory of the target's /tmp that only this command's user can change, which the agent in the target connects to
 * and writes its report into, line by line. Opens no port; the directory goes away on close.
 */
public final class StatusChannel implements AutoCloseable {
    private static final String NAME = "s";
    private final InTarget.Exchange dir;
    private final ServerSocketChannel server;
    private final Target target;
    /** The socket's path as the target sees it: the argument of {@code @status-stream=}. */
    public final String pathInTarget;

    private StatusChannel(InTarget.Exchange dir, ServerSocketChannel server, Target target) {
        this.dir = dir;
        this.server = server;
        this.target = target;
        this.pathInTarget = dir.pathInTarget + "/" + NAME;
    }

    public static StatusChannel open(InTarget files, Target target) throws IOException {
        InTarget.Exchange dir = files.exchange(StatusRequest.DIRECTORY_PREFIX);
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(dir.here(NAME))); // bind(2) never follows a link in the last component
            dir.own(NAME);
            server.configureBlocking(false);
            return new StatusChannel(dir, server, target);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            dir.close();
            throw e;
        }
    }

    /**
     * Accepts the agent's connection and hands each line to {@code sink} until {@link StatusRequest#END}; waits at most
     * {@code stallMs} for the connection and for each piece of the stream.
     * @return true when the report was complete
     */
    public boolean read(long stallMs, Consumer<String> sink) throws IOException {
        try (Selector selector = Selector.open()) {
            server.register(selector, SelectionKey.OP_ACCEPT);
            SocketChannel ch;
            while ((ch = server.accept()) == null) {
                Deadline d = Deadline.in(stallMs);
                if (selector.select(stallMs) == 0) {
                    throw d.passed(target, "connect to the status channel (is its agent older than this command?)");
                }
                selector.selectedKeys().clear();
            }
            try (SocketChannel c = ch; Selector reading = Selector.open()) {
                c.configureBlocking(false);
                c.register(reading, SelectionKey.OP_READ);
                ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                while (true) {
                    int n = c.read(in);
                    if (n < 0) {
                        return false;
                    }
                    if (n == 0) {
                        Deadline d = Deadline.in(stallMs);
                        if (reading.select(stallMs) == 0) {
                            throw d.passed(target, "send the rest of its status report");
                        }
                        reading.selectedKeys().clear();
                        continue;
                    }
                    in.flip();
                    while (in.hasRemaining()) {
                        byte b = in.get();
                        if (b != '\n') {
                            if (line.size() < (1 << 20)) {
                                line.write(b);
                            }
                            continue;
                        }
                        String s = new String(line.toByteArray(), StandardCharsets.UTF_8);
                        line.reset();
                        if (s.equals(StatusRequest.END)) {
                            return true;
                        }
                        sink.accept(s);
                    }
                    in.clear();
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        dir.close();
    }
}
