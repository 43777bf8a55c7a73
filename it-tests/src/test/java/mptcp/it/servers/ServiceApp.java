package mptcp.it.servers;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * A long-running service for the systemd tests (no stdin): prints its greeting property, opens a listener at once
 * and another every 500 ms (all kept open, up to 240), so that sockets created after an attach can be told apart.
 */
public final class ServiceApp {
    public static void main(String[] args) throws Exception {
        System.out.println("greeting=" + System.getProperty("greeting"));
        List<ServerSocket> keep = new ArrayList<>();
        for (int i = 0; i < 240; i++) {
            keep.add(new ServerSocket(0));
            Thread.sleep(500);
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
