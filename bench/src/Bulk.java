import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bulk-throughput row: one loopback connection, a writer thread sends 128 KiB writes, the reader discards.
 * Usage: Bulk WARMUP_SECONDS MEASURE_SECONDS. Prints "gbit/s X" over the measured interval (bytes read).
 */
public class Bulk {
    public static void main(String[] args) throws Exception {
        double warmup = Double.parseDouble(args[0]);
        double measure = Double.parseDouble(args[1]);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        AtomicLong received = new AtomicLong();
        try (ServerSocket server = new ServerSocket(0, 1, loopback);
             Socket client = new Socket(loopback, server.getLocalPort());
             Socket peer = server.accept()) {
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[128 * 1024];
                try (OutputStream out = client.getOutputStream()) {
                    while (true) {
                        out.write(chunk);
                    }
                } catch (Exception e) {
                    // the reader closed the connection
                }
            }, "writer");
            writer.setDaemon(true);
            writer.start();
            InputStream in = peer.getInputStream();
            byte[] buffer = new byte[128 * 1024];
            long start = System.nanoTime();
            long measureFrom = start + (long) (warmup * 1e9);
            long end = measureFrom + (long) (measure * 1e9);
            long bytesAtStart = -1;
            long total = 0;
            long t0 = 0;
            while (true) {
                int r = in.read(buffer);
                if (r < 0) {
                    throw new IllegalStateException("writer stopped");
                }
                total += r;
                long now = System.nanoTime();
                if (bytesAtStart < 0 && now >= measureFrom) {
                    bytesAtStart = total;
                    t0 = now;
                }
                if (now >= end) {
                    System.out.printf("gbit/s %.3f%n", (total - bytesAtStart) * 8 / ((now - t0) / 1e9) / 1e9);
                    break;
                }
            }
        }
    }
}
