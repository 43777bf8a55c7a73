package mptcp.agent.paths;

import java.util.Arrays;

import mptcp.sys.Errno;
import mptcp.sys.LibC;
import mptcp.sys.Sock;

/**
 * Benchmark (not a test; run by {@code bench/paths-cost.sh}): what the per-path accounting adds to one end of one MPTCP
 * connection, measured in one JVM, in a tight loop, on real MPTCP connections over loopback, so that no other JVM's
 * JIT and no scheduling of a churn enter the figure. Per round and per operation, nanoseconds per call:
 * <ul>
 * <li>{@code end}: {@link Paths#opened} then {@link Paths#closing} on an established connection (the work the agent
 * adds to a connection that the kernel said is MPTCP: following it, then its last look as the application closes it,
 * with its bytes added to the interface's totals);</li>
 * <li>{@code full_info}: the kernel's {@code getsockopt(MPTCP_FULL_INFO)} alone, through the agent's native layer,
 * as the last look asks it;</li>
 * <li>{@code syscall}: a {@code getsockopt(SO_PROTOCOL)} through the same layer, the floor of any system call.</li>
 * </ul>
 * The connections carry some bytes first, so that the accounting adds non-zero figures, as on real traffic.
 *
 * <p>Usage: {@code LookCost [rounds] [millis per round]}; prints one line per round and the medians.
 */
public final class LookCost {
    private static final int CONNECTIONS = 16;

    private LookCost() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        long millis = args.length > 1 ? Long.parseLong(args[1]) : 1000;
        int listener = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, true);
        if (listener < 0) {
            throw new IllegalStateException("MPTCP socket: " + Errno.describe(-listener));
        }
        byte[] bound = ViewTest.listening(listener, ViewTest.LOOPBACK4, CONNECTIONS);
        int[] clients = new int[CONNECTIONS];
        byte[] data = new byte[4096];
        byte[] in = new byte[65536];
        for (int i = 0; i < CONNECTIONS; i++) {
            clients[i] = Sock.open(LibC.AF_INET, LibC.IPPROTO_MPTCP, false, false);
            check(ViewTest.LIBC.connect(clients[i], bound, 16), "connect");
            int server = ViewTest.LIBC.accept(listener, null, null);
            check(server < 0 ? server : 0, "accept");
            ViewTest.LIBC.write(clients[i], data, data.length);
            ViewTest.LIBC.read(server, in, in.length);
            ViewTest.LIBC.write(server, data, 100);
            ViewTest.LIBC.read(clients[i], in, in.length);
        }
        int[] error = new int[1];
        if (View.read(clients[0], error) == null) {
            throw new IllegalStateException("no MPTCP_FULL_INFO: " + Errno.describe(error[0]));
        }
        String[] names = {"end", "full_info", "syscall"};
        double[][] results = new double[names.length][rounds];
        Sock.FullInfo buffer = new Sock.FullInfo(View.size(0, View.FIRST));
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
            for (int op = 0; op < names.length; op++) {
                long calls = 0;
                long start = System.nanoTime();
                long end = start + millis * 1_000_000L;
                long now;
                do {
                    for (int k = 0; k < 1000; k++) {
                        int fd = clients[k % CONNECTIONS];
                        switch (op) {
                            case 0:
                                Paths.opened(fd);
                                Paths.closing(fd);
                                break;
                            case 1:
                                Sock.mptcpFullInfo(fd, buffer, 0, View.FIRST, View.SFINFO, View.TCPINFO);
                                break;
                            default:
                                Sock.getInt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL);
                                break;
                        }
                    }
                    calls += 1000;
                    now = System.nanoTime();
                } while (now < end);
                results[op][r] = (now - start) / (double) calls;
                line.append(String.format(" %s %.0f ns", names[op], results[op][r]));
            }
            System.out.println(line);
        }
        StringBuilder summary = new StringBuilder("median:");
        for (int op = 0; op < names.length; op++) {
            double[] sorted = results[op].clone();
            Arrays.sort(sorted);
            summary.append(String.format(" %s %.0f ns", names[op], sorted[sorted.length / 2]));
        }
        System.out.println(summary);
        Accounting.Totals lo = Paths.ACCOUNTING.byInterface().get("lo");
        System.out.println("accounted on lo: sent " + (lo == null ? 0 : lo.sent.sum()) + " bytes");
    }

    private static void check(int rc, String what) {
        if (rc < 0) {
            throw new IllegalStateException(what + ": " + Errno.describe(-rc));
        }
    }
}
