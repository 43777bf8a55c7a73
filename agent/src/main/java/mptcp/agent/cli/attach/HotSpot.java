package mptcp.agent.cli.attach;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import mptcp.sys.InRoot;

/**
 * HotSpot's attach protocol (version 1, which every HotSpot from 8 to 25 accepts), spoken directly over the target's
 * UNIX socket instead of through {@code jdk.attach}: it works on a JRE without that module, into containers (the
 * socket is reached inside the target's mount namespace through {@link InTarget}, named by the namespaced pid) and
 * into other users' JVMs (as root), and every step has a deadline ({@code jdk.attach} waits for the listener to start
 * but blocks forever on a reply from a stopped JVM).
 *
 * <p>The protocol: a client connects, writes {@code "1\0" command "\0" arg0 "\0" arg1 "\0" arg2 "\0"} (each argument
 * at most 1024 bytes), and reads a status line ({@code 0} = done) and the command's output until the JVM closes the
 * connection. A JVM starts its listener when it gets SIGQUIT while {@code .attach_pid<nspid>} exists in its working
 * directory or /tmp; it accepts a peer whose uid is root or its own effective uid.
 */
public final class HotSpot implements AutoCloseable {
    /** HotSpot's limit on one argument of version 1 of the protocol. */
    public static final int MAX_ARGUMENT = 1024;
    private static final int MAX_REPLY = 8 << 20;

    private final Target target;
    private final int socket;

    private HotSpot(Target target, int socket) {
        this.target = target;
        this.socket = socket;
    }

    /**
     * Finds the attach listener of {@code target} or starts it (trigger file, SIGQUIT through a pidfd checked to be
     * that very process), within {@code deadline}.
     */
    public static HotSpot connect(Target target, InTarget files, Deadline deadline) throws IOException {
        int socket = files.attachSocket();
        if (socket >= 0) {
            return new HotSpot(target, socket);
        }
        if (!target.catchesQuit && !Target.of(target.pid).catchesQuit) {
            throw new IOException("JVM " + target.pid + " does not handle SIGQUIT (not yet started, or run with -Xrs):"
                    + " its attach listener cannot be started" + target.stateNote());
        }
        boolean created = files.createTrigger();
        int pidfd = InRoot.pidfd(target.pid);
        if (pidfd < 0 || !target.alive()) {
            if (pidfd >= 0) {
                InRoot.close(pidfd);
            }
            if (created) {
                files.removeTrigger();
            }
            throw new java.nio.file.NoSuchFileException("JVM " + target.pid + " has exited");
        }
        try {
            long quitAgainAt = deadline.remainingMillis() / 2;
            boolean quitAgain = true;
            int rc = InRoot.signal(pidfd, InRoot.SIGQUIT);
            if (rc < 0) {
                throw new IOException("sending SIGQUIT to JVM " + target.pid + " (which starts its attach listener) was"
                        + " refused: " + mptcp.sys.Errno.describe(-rc) + (rc == -1 ? " (signalling another user's process"
                        + " needs root with CAP_KILL)" : ""));
            }
            long pause = 5;
            while (true) {
                socket = files.attachSocket();
                if (socket >= 0) {
                    return new HotSpot(target, socket);
                }
                if (!target.alive()) {
                    throw new java.nio.file.NoSuchFileException("JVM " + target.pid + " has exited");
                }
                if (deadline.passed()) {
                    throw deadline.passed(target, "start its attach listener after SIGQUIT");
                }
                if (quitAgain && deadline.remainingMillis() < quitAgainAt) {
                    quitAgain = false;
                    InRoot.signal(pidfd, InRoot.SIGQUIT); // as jdk.attach does: a last chance halfway
                }
                try {
                    Thread.sleep(Math.min(pause, Math.max(1, deadline.remainingMillis())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                }
                pause = Math.min(pause * 2, 50);
            }
        } finally {
            InRoot.close(pidfd);
            if (created) {
                files.removeTrigger();
            }
        }
    }

    /** The target's system properties ({@code properties}). */
    public Properties properties(Deadline deadline) throws IOException {
        byte[] out = execute(deadline, "properties", "", "", "");
        Properties p = new Properties();
        p.load(new java.io.ByteArrayInputStream(out));
        return p;
    }

    /**
     * Loads {@code jarAndOptions} ({@code <jar>[=<options>]}, as the target sees the jar) as a Java agent: the target
     * runs its agentmain before it answers.
     */
    public void loadAgent(String jarAndOptions, Deadline deadline) throws IOException {
        String reply = new String(execute(deadline, "load", "instrument", "false", jarAndOptions), StandardCharsets.UTF_8)
                .trim();
        int code;
        try {
            code = Integer.parseInt(reply.startsWith("return code: ") ? reply.substring(13).trim() : reply);
        } catch (NumberFormatException e) {
            throw new IOException("JVM " + target.pid + " could not load the agent: " + reply);
        }
        switch (code) {
            case 0:
                return;
            case 100:
                throw new IOException("JVM " + target.pid + " could not open the agent jar or found no Agent-Class in it"
                        + " (" + jarAndOptions.split("=", 2)[0] + ")");
            case 101:
                throw new IOException("JVM " + target.pid + " could not add the agent jar to its class path");
            case 102:
                throw new IOException("JVM " + target.pid + " loaded the agent jar but its agentmain failed");
            default:
                throw new IOException("JVM " + target.pid + " could not load the agent (code " + code + ")");
        }
    }

    /**
     * Sends one command and returns its output; throws when the status is not 0 (with the JVM's message) or when
     * {@code deadline} passes (naming what was waited for).
     */
    public byte[] execute(Deadline deadline, String command, String... args) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes("1\0".getBytes(StandardCharsets.UTF_8));
        request.writeBytes((command + "\0").getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 3; i++) {
            byte[] a = (i < args.length ? args[i] : "").getBytes(StandardCharsets.UTF_8);
            if (a.length > MAX_ARGUMENT) {
                throw new IOException("an argument of the attach request is " + a.length + " bytes long; HotSpot takes"
                        + " at most " + MAX_ARGUMENT + " (shorten the options, or use rules=@FILE)");
            }
            request.writeBytes(a);
            request.write(0);
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            String what = command.equals("load") ? "answer the attach request (load the agent)" : "answer the attach request";
            if (!ch.connect(UnixDomainSocketAddress.of(InTarget.fd(socket)))) {
                ch.register(selector, SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    await(selector, deadline, "accept the attach connection");
                }
            }
            ByteBuffer out = ByteBuffer.wrap(request.toByteArray());
            SelectionKey key = ch.register(selector, SelectionKey.OP_WRITE);
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    await(selector, deadline, what);
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(16384);
            while (true) {
                int n = ch.read(in);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    await(selector, deadline, what);
                    continue;
                }
                reply.write(in.array(), 0, in.position());
                in.clear();
                if (reply.size() > MAX_REPLY) {
                    throw new IOException("JVM " + target.pid + " sent more than " + (MAX_REPLY >> 20) + " MiB for "
                            + command);
                }
            }
            byte[] r = reply.toByteArray();
            int nl = 0;
            while (nl < r.length && r[nl] != '\n') {
                nl++;
            }
            String status = new String(r, 0, nl, StandardCharsets.UTF_8).trim();
            byte[] body = nl < r.length ? java.util.Arrays.copyOfRange(r, nl + 1, r.length) : new byte[0];
            if (status.isEmpty()) {
                throw new IOException("JVM " + target.pid + " closed the attach connection without an answer to "
                        + command + target.stateNote());
            }
            if (!status.equals("0")) {
                String message = new String(body, StandardCharsets.UTF_8).trim().replace('\n', ' ');
                throw new IOException("JVM " + target.pid + " refused " + command + " (status " + status + ")"
                        + (message.isEmpty() ? "" : ": " + message));
            }
            return body;
        } catch (java.net.SocketException e) {
            if (!target.alive()) {
                throw new java.nio.file.NoSuchFileException("JVM " + target.pid + " has exited");
            }
            boolean denied = e.getMessage() != null && e.getMessage().contains("ermission");
            throw new IOException("attach connection to JVM " + target.pid + ": " + e.getMessage() + (!denied ? ""
                    : Target.ownEuid() == 0 ? " (its attach socket is uid " + target.euid + "'s, mode 0600: root needs"
                            + " CAP_DAC_OVERRIDE to connect to it)"
                    : " (a JVM accepts attach only from root or its own user, uid " + target.euid + ")"));
        }
    }

    private void await(Selector selector, Deadline deadline, String what) throws IOException {
        long left = deadline.remainingMillis();
        if (left <= 0 || selector.select(left) == 0 && deadline.passed()) {
            throw deadline.passed(target, what);
        }
        selector.selectedKeys().clear();
    }

    @Override
    public void close() {
        InRoot.close(socket);
    }
}
