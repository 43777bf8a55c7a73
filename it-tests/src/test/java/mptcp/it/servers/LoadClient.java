package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Client of {@link ListenerApp} for the hand-over tests and the benchmark: each of THREADS threads opens a fresh
 * connection, sends one HTTP/1.1 request, reads the "ok" response and closes, again and again (PAUSE_MS between),
 * until "stop" on stdin or MAX_SECONDS. Prints {@code RESULT attempted=N failed=M first=<error>}. Mode {@code hold}:
 * one connection ({@code LOCAL <local port>}), one request ({@code HELD ok}), then one more request on the same
 * connection for each {@code again} ({@code AGAIN ok} or {@code AGAIN failed ...}); {@code more} opens and holds one
 * more connection ({@code LOCAL}, {@code HELD} again), after which {@code again} asks on each ({@code AGAIN ok} when
 * every one answered).
 * Mode {@code late}: connect ({@code CONNECTED}), then one request after a line on stdin ({@code LATE ok}).
 * <pre>LoadClient load HOST PORT THREADS PAUSE_MS MAX_SECONDS | LoadClient hold|late HOST PORT</pre>
 */
public final class LoadClient {
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args[0].equals("late")) { // connect, then one request only after a line on stdin
            Socket s = new Socket();
            s.connect(to, 20_000);
            s.setSoTimeout(10_000);
            System.out.println("CONNECTED");
            stdin.readLine();
            String r;
            try {
                r = exchange(s);
            } catch (IOException e) {
                r = "failed " + e;
            }
            System.out.println("LATE " + r);
            s.close();
            return;
        }
        if (args[0].equals("hold")) {
            java.util.List<Socket> held = new java.util.ArrayList<>(java.util.List.of(held(to)));
            for (String line; (line = stdin.readLine()) != null && !line.equals("bye"); ) {
                if (line.equals("more")) { // one more connection, the earlier ones kept
                    held.add(held(to));
                    continue;
                }
                String r = "ok";
                for (Socket s : held) { // one more request on each connection held
                    try {
                        String one = exchange(s);
                        r = one.equals("ok") ? r : one;
                    } catch (IOException e) {
                        r = "failed " + e;
                    }
                }
                System.out.println("AGAIN " + r);
            }
            for (Socket s : held) {
                s.close();
            }
            return;
        }
        int threads = Integer.parseInt(args[3]);
        long pause = Long.parseLong(args[4]);
        long end = System.nanoTime() + Long.parseLong(args[5]) * 1_000_000_000L;
        AtomicLong attempted = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>("none");
        Thread[] t = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            t[i] = new Thread(() -> {
                while (!STOP.get() && System.nanoTime() < end) {
                    attempted.incrementAndGet();
                    try (Socket s = new Socket()) {
                        s.connect(to, 5000);
                        s.setSoTimeout(5000);
                        String r = exchange(s);
                        if (!r.equals("ok")) {
                            throw new IOException("bad response " + r);
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet();
                        first.compareAndSet("none", e.toString().replace(' ', '_'));
                    }
                    try {
                        Thread.sleep(pause);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            t[i].start();
        }
        System.out.println("RUNNING");
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = stdin.readLine()) != null; ) {
                    if (line.equals("stop")) {
                        break;
                    }
                }
            } catch (IOException ignored) {
                // stop
            }
            STOP.set(true);
        });
        reader.setDaemon(true);
        reader.start();
        for (Thread x : t) {
            x.join();
        }
        System.out.println("RESULT attempted=" + attempted.get() + " failed=" + failed.get() + " first=" + first.get());
    }

    /** A new connection and its first request: prints {@code LOCAL <its local port>}, then {@code HELD <result>}. */
    private static Socket held(InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.connect(to, 5000);
        s.setSoTimeout(5000);
        System.out.println("LOCAL " + s.getLocalPort());
        System.out.println("HELD " + exchange(s));
        return s;
    }

    private static final java.util.concurrent.atomic.AtomicBoolean STOP = new java.util.concurrent.atomic.AtomicBoolean();

    /** One request, one response: returns the body ("ok"). */
    static String exchange(Socket s) throws IOException {
        s.getOutputStream().write(REQUEST);
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after " + head.length() + " bytes");
            }
            head.append((char) b);
        }
        String h = head.toString().toLowerCase(java.util.Locale.ROOT);
        int at = h.indexOf("content-length: ");
        int length = Integer.parseInt(h.substring(at + 16, h.indexOf("\r\n", at)).trim());
        byte[] body = in.readNBytes(length);
        return new String(body, StandardCharsets.US_ASCII);
    }
}
