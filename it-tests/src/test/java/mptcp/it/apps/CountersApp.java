package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test application: {@code CountersApp <plain port> <threads> <iterations>}. Opens three listeners (ServerSocket,
 * ServerSocketChannel, AsynchronousServerSocketChannel: MPTCP under the agent) whose acceptors close what they accept;
 * then {@code threads} threads each, {@code iterations} times, open a connection to one of the listeners with one of
 * four connect paths (blocking Socket, Socket with timeout, non-blocking SocketChannel + finishConnect,
 * AsynchronousSocketChannel) and close it, and open and close one connection to the plain TCP server at
 * {@code 127.0.0.1:<plain port>}. Prints {@code DONE <connections> <nanoseconds>} once every connection was made and
 * accepted, then waits for a stdin line.
 */
public final class CountersApp {
    public static void main(String[] args) throws Exception {
        int plainPort = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();

        ServerSocket server = new ServerSocket(0, 1024, lo);
        ServerSocketChannel channel = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0), 1024);
        AsynchronousServerSocketChannel async = AsynchronousServerSocketChannel.open().bind(new InetSocketAddress(lo, 0), 1024);
        daemon(() -> {
            while (true) {
                try (Socket s = server.accept()) {
                    accepted.incrementAndGet();
                }
            }
        });
        daemon(() -> {
            while (true) {
                try (SocketChannel s = channel.accept()) {
                    accepted.incrementAndGet();
                }
            }
        });
        async.accept(null, new CompletionHandler<AsynchronousSocketChannel, Void>() {
            @Override
            public void completed(AsynchronousSocketChannel s, Void v) {
                accepted.incrementAndGet();
                try {
                    s.close();
                } catch (Exception ignored) {
                    // closed
                }
                async.accept(null, this);
            }

            @Override
            public void failed(Throwable t, Void v) {
                failures.incrementAndGet();
            }
        });
        int[] ports = {server.getLocalPort(), ((InetSocketAddress) channel.getLocalAddress()).getPort(),
            ((InetSocketAddress) async.getLocalAddress()).getPort()};

        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicLong made = new AtomicLong();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < iterations; i++) {
                        int kind = (id + i) % 4;
                        InetSocketAddress to = new InetSocketAddress(lo, ports[(id + i) % 3]);
                        connect(kind, to);
                        connect((kind + 1) % 4, new InetSocketAddress(lo, plainPort));
                        made.addAndGet(2);
                    }
                } catch (Throwable e) {
                    failures.incrementAndGet();
                    e.printStackTrace();
                } finally {
                    done.countDown();
                }
            });
            th.start();
        }
        long t0 = System.nanoTime();
        start.countDown();
        done.await();
        long expected = (long) threads * iterations;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (accepted.get() < expected && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        long elapsed = System.nanoTime() - t0;
        if (failures.get() > 0 || accepted.get() != expected) {
            System.out.println("FAILED failures=" + failures.get() + " accepted=" + accepted.get());
        } else {
            System.out.println("DONE " + made.get() + " " + elapsed);
        }
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        System.exit(0);
    }

    private static void connect(int kind, InetSocketAddress to) throws Exception {
        switch (kind) {
            case 0:
                try (Socket s = new Socket(to.getAddress(), to.getPort())) {
                    s.getLocalPort();
                }
                break;
            case 1:
                try (Socket s = new Socket()) {
                    s.connect(to, 10_000);
                }
                break;
            case 2:
                try (SocketChannel c = SocketChannel.open()) {
                    c.configureBlocking(false);
                    if (!c.connect(to)) {
                        while (!c.finishConnect()) {
                            Thread.sleep(1);
                        }
                    }
                }
                break;
            default:
                try (AsynchronousSocketChannel c = AsynchronousSocketChannel.open()) {
                    c.connect(to).get(10, TimeUnit.SECONDS);
                }
        }
    }

    interface Body {
        void run() throws Exception;
    }

    private static void daemon(Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                // listener closed
            }
        });
        t.setDaemon(true);
        t.start();
    }
}
