package mptcp.it.dualpath;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dual-path tests' traffic tool, run as a child JVM (under the agent or not). Each connection sends the
 * {@link Pattern} at a set rate and, at the same time, checks every byte it receives against the pattern.
 *
 * <pre>
 * Traffic server PORT   [options]   listen on the wildcard address, serve --conns connections, then exit
 * Traffic client HOST PORT [options]
 * options: --send BYTES | --seconds S   how much to send (default nothing), then shut down the output
 *          --rate BYTES_PER_SECOND      0 = as fast as possible (default)
 *          --expect BYTES               the connection fails unless exactly this many bytes arrive
 *          --conns N                    server: connections to serve (default 1)
 *          --interval MS                progress line period (default 1000)
 * output:  listening PORT
 *          progress NAME t=MS rx=BYTES tx=BYTES          every interval, per connection
 *          result NAME ok=true|false rx=BYTES tx=BYTES ms=MS maxStallMs=MS [error=...]
 * </pre>
 *
 * {@code maxStallMs} is the longest time between two reads that brought data. The exit code is 0 when every
 * connection ended ok. A side with nothing to send half-closes only after the peer's EOF: Linux accepts no new
 * subflow (MP_JOIN) into a connection that has seen a DATA_FIN.
 */
public final class Traffic {
    private final Map<String, String> opt;

    private Traffic(Map<String, String> opt) {
        this.opt = opt;
    }

    public static void main(String[] args) throws Exception {
        List<String> pos = new ArrayList<>();
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                opt.put(args[i].substring(2), args[++i]);
            } else {
                pos.add(args[i]);
            }
        }
        Traffic t = new Traffic(opt);
        boolean ok;
        if (pos.get(0).equals("server")) {
            ok = t.server(Integer.parseInt(pos.get(1)));
        } else if (pos.get(0).equals("client")) {
            ok = t.client(pos.get(1), Integer.parseInt(pos.get(2)));
        } else {
            throw new IllegalArgumentException("server|client: " + pos.get(0));
        }
        System.out.flush();
        System.exit(ok ? 0 : 1);
    }

    private long num(String key, long dflt) {
        String v = opt.get(key);
        return v == null ? dflt : Long.parseLong(v);
    }

    private boolean server(int port) throws Exception {
        int conns = (int) num("conns", 1);
        // the listener stays open (on the wildcard address) while the connections live: MP_JOINs need it
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(port));
            say("listening " + ((InetSocketAddress) listener.getLocalAddress()).getPort());
            List<Thread> threads = new ArrayList<>();
            boolean[] ok = new boolean[conns];
            for (int i = 0; i < conns; i++) {
                SocketChannel ch = listener.accept();
                int k = i;
                String name = "s" + i;
                Thread th = new Thread(() -> ok[k] = connection(name, Channels.newInputStream(ch),
                        Channels.newOutputStream(ch), () -> ch.shutdownOutput(), ch));
                th.start();
                threads.add(th);
            }
            boolean all = true;
            for (int i = 0; i < conns; i++) {
                threads.get(i).join();
                all &= ok[i];
            }
            return all;
        }
    }

    private boolean client(String host, int port) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 10_000);
            say("connected " + s.getLocalSocketAddress() + " -> " + s.getRemoteSocketAddress());
            return connection("c0", s.getInputStream(), s.getOutputStream(), s::shutdownOutput, s);
        }
    }

    interface Shutdown {
        void run() throws IOException;
    }

    private boolean connection(String name, InputStream in, OutputStream out, Shutdown shutdownOutput, AutoCloseable socket) {
        long sendBytes = num("send", 0);
        long seconds = num("seconds", 0);
        long rate = num("rate", 0);
        long expect = num("expect", -1);
        long interval = num("interval", 1000);
        long start = System.nanoTime();
        AtomicLong rx = new AtomicLong();
        long[] tx = new long[1];
        String[] error = new String[1];
        Thread sender = new Thread(() -> {
            try {
                long total = seconds > 0 ? Long.MAX_VALUE : sendBytes;
                long deadline = seconds > 0 ? start + seconds * 1_000_000_000L : 0;
                if (total > 0) {
                    Pattern.send(out, total, rate, deadline, tx);
                    shutdownOutput.run();
                }
                // with nothing to send, the output is shut down only after the peer's EOF (below): the kernel
                // takes no new subflow (MP_JOIN) into a connection after a DATA_FIN, so an early half-close would
                // keep the connection on one path
            } catch (IOException e) {
                error[0] = "send: " + e;
            }
        }, name + "-send");
        Thread ticker = new Thread(() -> {
            try {
                for (long k = 1; ; k++) {
                    long due = start + k * interval * 1_000_000L;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    say("progress " + name + " t=" + (k * interval) + " rx=" + rx.get() + " tx=" + tx[0]);
                }
            } catch (InterruptedException e) {
                // connection over
            }
        }, name + "-progress");
        ticker.setDaemon(true);
        sender.start();
        ticker.start();
        long maxStall = 0;
        long mismatch = -1;
        try {
            byte[] b = new byte[65536];
            long last = 0;
            for (int n; (n = in.read(b)) >= 0; ) {
                if (n == 0) {
                    continue;
                }
                long now = System.nanoTime();
                if (last != 0) {
                    maxStall = Math.max(maxStall, now - last);
                }
                last = now;
                if (mismatch < 0) {
                    mismatch = Pattern.check(b, n, rx.get());
                }
                rx.addAndGet(n);
            }
            sender.join();
            if (sendBytes == 0 && seconds == 0) {
                shutdownOutput.run();
            }
        } catch (IOException | InterruptedException e) {
            error[0] = "receive: " + e;
        } finally {
            ticker.interrupt();
            try {
                socket.close();
            } catch (Exception ignored) {
                // closing
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (mismatch >= 0 && error[0] == null) {
            error[0] = "byte at offset " + mismatch + " is not the pattern";
        }
        if (error[0] == null && expect >= 0 && rx.get() != expect) {
            error[0] = "received " + rx.get() + " bytes, expected " + expect;
        }
        boolean ok = error[0] == null;
        say("result " + name + " ok=" + ok + " rx=" + rx.get() + " tx=" + tx[0] + " ms=" + ms
                + " maxStallMs=" + maxStall / 1_000_000 + (ok ? "" : " error=" + error[0]));
        return ok;
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
