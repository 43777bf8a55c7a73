import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Connection-churn row: connect + accept + close.
 * <ul>
 * <li>{@code Churn WARMUP_SECONDS MEASURE_SECONDS}: on loopback, client and server in one JVM. Prints
 * "connections/s N" for the measured interval only.</li>
 * <li>{@code Churn serve ADDRESS}: the server alone (namespace-pair rows): listens on ADDRESS, a free port, prints
 * "port N", then accepts and closes at once until its standard input ends (the driver closes it, or dies).</li>
 * <li>{@code Churn WARMUP_SECONDS MEASURE_SECONDS HOST PORT MAX}: the client alone, to such a server; stops early after
 * MAX connections in all; also prints the client's CPU time per connection over the measured interval
 * ("cpu_us_per_connection N", from /proc/self/stat). Each connection waits for the server's close (end of stream) before closing its end, so
 * that the client never runs ahead of the acceptor: open loop, the accept queue overflowed now and then, and each
 * dropped SYN cost a 1 s retransmission that dwarfed the run. Prints "connections/s N" (measured interval) and
 * "connections N" (all, warm-up included).</li>
 * </ul>
 */
public class Churn {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("serve")) {
            serve(InetAddress.getByName(args[1]));
            return;
        }
        double warmup = Double.parseDouble(args[0]);
        double measure = Double.parseDouble(args[1]);
        if (args.length == 5) {
            InetAddress host = InetAddress.getByName(args[2]);
            int port = Integer.parseInt(args[3]);
            long max = Long.parseLong(args[4]);
            long warm = run(host, port, (long) (warmup * 1e9), max, true);
            long t0 = System.nanoTime();
            long cpu0 = cpuTicks();
            long n = run(host, port, (long) (measure * 1e9), max - warm, true);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long cpu = cpuTicks() - cpu0;
            System.out.printf("connections/s %.1f%nconnections %d%n", n / seconds, warm + n);
            printCpu(cpu0, cpu, n);
            return;
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ServerSocket server = new ServerSocket(0, 1024, loopback);
        acceptor(server).start();
        int port = server.getLocalPort();
        run(loopback, port, (long) (warmup * 1e9), Long.MAX_VALUE, false);
        long t0 = System.nanoTime();
        long cpu0 = cpuTicks();
        long n = run(loopback, port, (long) (measure * 1e9), Long.MAX_VALUE, false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long cpu = cpuTicks() - cpu0;
        server.close();
        System.out.printf("connections/s %.1f%n", n / seconds);
        printCpu(cpu0, cpu, n);
    }

    private static Thread acceptor(ServerSocket server) {
        Thread acceptor = new Thread(() -> {
            while (true) {
                try (Socket accepted = server.accept()) {
                    // closed at once
                } catch (IOException e) {
                    return; // server closed
                }
            }
        }, "acceptor");
        acceptor.setDaemon(true);
        return acceptor;
    }

    private static void serve(InetAddress address) throws IOException {
        ServerSocket server = new ServerSocket(0, 1024, address);
        acceptor(server).start();
        System.out.println("port " + server.getLocalPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the driver closes our standard input
        }
        server.close();
    }

    /** "cpu_us_per_connection N" when the CPU time was readable ({@code cpu0} not -1) and there were connections. */
    private static void printCpu(long cpu0, long cpu, long n) {
        if (cpu0 >= 0 && n > 0) {
            // clock ticks of 10 ms (USER_HZ 100 on Linux): a few hundred over a measured interval of seconds
            System.out.printf("cpu_us_per_connection %.2f%n", cpu * 10_000.0 / n);
        }
    }

    /** This process's CPU time (user + system) in clock ticks, from /proc/self/stat; -1 where there is none. */
    static long cpuTicks() {
        try {
            String stat = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/stat")),
                    java.nio.charset.StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long run(InetAddress address, int port, long nanos, long max, boolean awaitClose) throws IOException {
        long end = System.nanoTime() + nanos;
        long n = 0;
        while (System.nanoTime() < end && n < max) {
            for (int i = 0; i < 64 && n < max; i++) {
                try (Socket s = new Socket(address, port)) {
                    if (awaitClose && s.getInputStream().read() >= 0) {
                        throw new IOException("the server sent data");
                    }
                    n++;
                }
            }
        }
        return n;
    }
}
