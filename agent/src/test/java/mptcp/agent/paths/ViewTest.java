package mptcp.agent.paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/** MPTCP_FULL_INFO read from this machine's kernel on a real MPTCP connection over loopback; no mocks. */
class ViewTest {
    /** The calls the agent's native layer does not need, bound here with jnr-ffi for the test alone. */
    public interface C {
        int listen(int fd, int backlog);

        int connect(int fd, byte[] address, int length);

        int accept(int fd, jnr.ffi.Pointer address, jnr.ffi.Pointer length);

        long write(int fd, byte[] buffer, long count);

        long read(int fd, byte[] buffer, long count);
    }

    static final C LIBC = jnr.ffi.LibraryLoader.create(C.class).load("c");

    @Test
    void bothEndsOfAnMptcpConnectionShowTheirSubflowAndItsBytes() {
        int listener = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, true);
        assertTrue(listener >= 0, () -> "MPTCP socket: " + Errno.describe(-listener));
        int client = -1;
        int server = -1;
        try {
            byte[] any = {2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}; // 127.0.0.1, port 0 (family: host order)
            assertEquals(0, Sock.bind(listener, any, 16));
            assertEquals(0, LIBC.listen(listener, 4));
            byte[] bound = new byte[28];
            assertEquals(16, Sock.address(listener, false, bound));
            client = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
            assertEquals(0, LIBC.connect(client, bound, 16));
            server = LIBC.accept(listener, null, null);
            assertTrue(server >= 0);
            byte[] data = new byte[100_000];
            long written = 0;
            while (written < data.length) {
                written += LIBC.write(client, java.util.Arrays.copyOfRange(data, (int) written, data.length),
                        data.length - written);
            }
            long got = 0;
            byte[] in = new byte[65536];
            while (got < data.length) {
                got += LIBC.read(server, in, in.length);
            }
            int[] error = new int[1];
            View c = View.read(client, error);
            assertNotNull(c, () -> "MPTCP_FULL_INFO: " + Errno.describe(error[0]));
            View s = View.read(server, error);
            assertNotNull(s, () -> "MPTCP_FULL_INFO: " + Errno.describe(error[0]));
            assertNotEquals(0, c.token);
            assertNotEquals(c.token, s.token, "each end has its own token");
            assertEquals(1, c.subflows.length);
            assertEquals(1, s.subflows.length);
            View.Subflow sc = c.subflows[0];
            View.Subflow ss = s.subflows[0];
            assertEquals(1, sc.id, "the initial subflow is subflow 1");
            assertEquals(View.ESTABLISHED, sc.state);
            assertEquals(data.length, sc.sent, "what the client's subflow sent");
            assertEquals(data.length, ss.received, "what the server's subflow received");
            assertEquals(0, ss.sent);
            assertEquals(Interfaces.key(new byte[] {127, 0, 0, 1}), Interfaces.key(sc.local));
            assertEquals("lo", new Interfaces().of(sc.local, sc.scope));
            // a plain TCP socket has no MPTCP_FULL_INFO
            int tcp = Sock.open(LibC.AF_INET, 0, false, false);
            try {
                assertNull(View.read(tcp, error));
                assertTrue(error[0] > 0);
            } finally {
                Sock.close(tcp);
            }
        } finally {
            Sock.close(listener);
            if (client >= 0) {
                Sock.close(client);
            }
            if (server >= 0) {
                Sock.close(server);
            }
        }
    }
}
