package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client of the fleet tests: one thread per {@code HOST:PORT} target opens a fresh connection, sends one HTTP/1.1
 * request to a {@link ListenerApp}, reads the "ok" response and closes, again and again (PAUSE_MS between), until
 * "stop" on stdin or MAX_SECONDS; a target added later with {@code add HOST:PORT} on stdin gets its own thread.
 * Prints {@code RESULT HOST:PORT attempted=N failed=M first=<error>} per target, then {@code DONE}.
 * <pre>FleetClient MAX_SECONDS PAUSE_MS HOST:PORT...</pre>
 */
public final class FleetClient {
    public static void main(String[] args) throws Exception {
        long maxSeconds = Long.parseLong(args[0]);
        long pause = Long.parseLong(args[1]);
        AtomicBoolean stop = new AtomicBoolean();
        List<Object[]> targets = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            start(args[i], pause, stop, targets, threads);
        }
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(maxSeconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            stop.set(true);
        });
        timer.setDaemon(true);
        timer.start();
        System.out.println("STARTED");
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; !stop.get() && (line = stdin.readLine()) != null; ) {
            if (line.equals("stop")) {
                break;
            }
            if (line.startsWith("add ")) {
                start(line.substring(4).trim(), pause, stop, targets, threads);
                System.out.println("ADDED " + line.substring(4).trim());
            }
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        for (Object[] t : targets) {
            System.out.println("RESULT " + t[0] + " attempted=" + t[1] + " failed=" + t[2] + " first=" + ((AtomicReference<?>) t[3]).get());
        }
        System.out.println("DONE");
    }

    private static synchronized void start(String target, long pause, AtomicBoolean stop, List<Object[]> targets,
            List<Thread> threads) {
        String host = target.substring(0, target.lastIndexOf(':'));
        int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
        AtomicLong attempted = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>();
        targets.add(new Object[] {target, attempted, failed, first});
        Thread t = new Thread(() -> {
            while (!stop.get()) {
                attempted.incrementAndGet();
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 5000);
                    s.setSoTimeout(5000);
                    s.getOutputStream().write("GET / HTTP/1.1\r\nHost: t\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    StringBuilder r = new StringBuilder();
                    java.io.InputStream in = s.getInputStream();
                    for (int b; !r.toString().endsWith("\r\n\r\nok"); ) {
                        if ((b = in.read()) < 0) {
                            throw new java.io.IOException("connection closed after " + r.length() + " bytes");
                        }
                        r.append((char) b);
                    }
                } catch (Exception e) {
                    failed.incrementAndGet();
                    first.compareAndSet(null, e.toString());
                }
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        threads.add(t);
        t.start();
    }
}
