import java.net.InetAddress;
import java.net.ServerSocket;

/** Start-up row: a hello world that opens one socket (a loopback listener) and exits. */
public class Hello {
    public static void main(String[] args) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            System.out.println("hello, port " + server.getLocalPort());
        }
    }
}
