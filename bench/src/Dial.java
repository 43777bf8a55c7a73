import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * The blackhole rows' client ({@code bench/blackhole.py}): {@code Dial PORT ROUNDS HOST...} connects to each HOST in
 * turn, ROUNDS times ({@code Socket.connect} without a timeout), waits for the server's close (Churn's server accepts
 * and closes at once), and prints {@code DIAL host milliseconds} per connection (connect to end of stream).
 */
public class Dial {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        for (int r = 0; r < rounds; r++) {
            for (int i = 2; i < args.length; i++) {
                long t0 = System.nanoTime();
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[i], port));
                    InputStream in = s.getInputStream();
                    while (in.read() >= 0) {
                        // until the server's close
                    }
                }
                System.out.printf("DIAL %s %.1f%n", args[i], (System.nanoTime() - t0) / 1e6);
                System.out.flush();
            }
        }
    }
}
