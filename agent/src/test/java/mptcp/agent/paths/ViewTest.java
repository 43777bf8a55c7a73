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
    /** sockaddr_in of 127.0.0.1, port 0 (family in host order). */
    static final byte[] LOOPBACK4 = {2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};

    /** Binds {@code listener} to {@code any} (a raw sockaddr), listens with {@code backlog}; its bound address. */
    static byte[] listening(int listener, byte[] any, int backlog) {
        assertEquals(0, Sock.bind(listener, any, any.length));
        assertEquals(0, LIBC.listen(listener, backlog));
        byte[] bound = new byte[28];
        assertEquals(any.length, Sock.address(listener, false, bound));
        return bound;
    }

    @Test
    void bothEndsOfAnMptcpConnectionShowTheirSubflowAndItsBytes() {
        int listener = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, true);
        assertTrue(listener >= 0, () -> "MPTCP socket: " + Errno.describe(-listener));
        int client = -1;
        int server = -1;
        try {
            byte[] bound = listening(listener, LOOPBACK4, 4);
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
            noFullInfoOnTcp(LibC.AF_INET, true);
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

    /**
     * A dual-stack socket (AF_INET6, as the JDK makes them) connected to an IPv4 address: the kernel gives the local
     * address as ::ffff:127.0.0.1; the view has its IPv4 bytes (one interface table for both families); and a failed
     * read still says why (the read without errno is asked again with it).
     */
    @Test
    void aDualStackSocketsMappedAddressIsItsIpv4Address() {
        int listener = Sock.open(LibC.AF_INET6, LibC.IPPROTO_MPTCP, true, true);
        assertTrue(listener >= 0, () -> "MPTCP socket: " + Errno.describe(-listener));
        int client = -1;
        try {
            // sockaddr_in6 (family in host order): port 0, ::ffff:127.0.0.1
            byte[] any = new byte[28];
            any[0] = 10;
            any[18] = (byte) 0xff;
            any[19] = (byte) 0xff;
            any[20] = 127;
            any[23] = 1;
            byte[] bound = listening(listener, any, 4);
            client = Sock.open(LibC.AF_INET6, LibC.IPPROTO_MPTCP, true, false);
            assertEquals(0, LIBC.connect(client, bound, 28));
            int[] error = new int[1];
            View v = View.read(client, error, false);
            assertNotNull(v, () -> "MPTCP_FULL_INFO: " + Errno.describe(error[0]));
            assertEquals(1, v.subflows.length);
            assertEquals(Interfaces.key(new byte[] {127, 0, 0, 1}), Interfaces.key(v.subflows[0].local));
            assertEquals(0, v.subflows[0].scope);
            assertEquals("lo", new Interfaces().of(v.subflows[0].local, v.subflows[0].scope));
            noFullInfoOnTcp(LibC.AF_INET6, false);
        } finally {
            Sock.close(listener);
            if (client >= 0) {
                Sock.close(client);
            }
        }
    }

    /** A plain TCP socket of {@code domain} has no MPTCP_FULL_INFO, and the failed read says why. */
    private static void noFullInfoOnTcp(int domain, boolean token) {
        int tcp = Sock.open(domain, 0, domain == LibC.AF_INET6, false);
        try {
            int[] error = new int[1];
            assertNull(View.read(tcp, error, token), "a plain TCP socket has no MPTCP_FULL_INFO");
            assertTrue(error[0] > 0, "why: " + error[0]);
        } finally {
            Sock.close(tcp);
        }
    }
}
