import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;

/**
 * Connection-churn row: connect + accept + close on loopback, client and server in one JVM.
 * Usage: Churn WARMUP_SECONDS MEASURE_SECONDS. Prints "connections/s N" for the measured interval only.
 */
public class Churn {
    public static void main(String[] args) throws Exception {
        double warmup = Double.parseDouble(args[0]);
        double measure = Double.parseDouble(args[1]);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ServerSocket server = new ServerSocket(0, 1024, loopback);
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
        acceptor.start();
        int port = server.getLocalPort();
        run(loopback, port, (long) (warmup * 1e9));
        long t0 = System.nanoTime();
        long n = run(loopback, port, (long) (measure * 1e9));
        double seconds = (System.nanoTime() - t0) / 1e9;
        server.close();
        System.out.printf("connections/s %.1f%n", n / seconds);
    }

    private static long run(InetAddress address, int port, long nanos) throws IOException {
        long end = System.nanoTime() + nanos;
        long n = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 64; i++) {
                try (Socket s = new Socket(address, port)) {
                    n++;
                }
            }
        }
        return n;
    }
}
