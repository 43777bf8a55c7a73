package mptcp.it.servers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application on slf4j + logback (config: -Dlogback.configurationFile=logback-marker.xml). It prints whether its
 * slf4j was still uninitialised when main began, sets the property its log pattern uses, then logs, opens a listener
 * and a connection to it (sockets the agent converts and, at log=debug, logs), prints READY and waits for a line.
 */
public final class Slf4jApp {
    public static void main(String[] args) throws Exception {
        java.lang.reflect.Field state = LoggerFactory.class.getDeclaredField("INITIALIZATION_STATE");
        state.setAccessible(true);
        System.out.println("STATE_AT_MAIN " + state.getInt(null));
        System.setProperty("app.marker", "set-in-main");
        Logger log = LoggerFactory.getLogger(Slf4jApp.class);
        log.info("app started");
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Socket client = new Socket()) {
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 10_000);
            try (Socket accepted = server.accept()) {
                log.info("sockets open");
                System.out.println("READY");
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
        }
        System.exit(0);
    }
}
