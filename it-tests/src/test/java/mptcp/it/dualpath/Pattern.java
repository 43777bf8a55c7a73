package mptcp.it.dualpath;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The byte stream the dual-path tests send: byte {@code i} is a fixed function of {@code i} alone (a 64-bit mix of
 * {@code i / 8}), so a receiver can check every byte, and a lost, duplicated or reordered block shows as a mismatch.
 */
final class Pattern {
    private Pattern() {
    }

    private static long word(long w) {
        long z = w * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static byte at(long offset) {
        return (byte) (word(offset >>> 3) >>> ((offset & 7) * 8));
    }

    /** Fills {@code b[0..len)} with the pattern bytes from stream offset {@code offset}. */
    static void fill(byte[] b, int len, long offset) {
        int i = 0;
        while (i < len) {
            long o = offset + i;
            long w = word(o >>> 3);
            for (int k = (int) (o & 7); k < 8 && i < len; k++, i++) {
                b[i] = (byte) (w >>> (k * 8));
            }
        }
    }

    /** @return -1 when {@code b[0..len)} is the pattern from {@code offset}, else the stream offset of the first wrong byte */
    static long check(byte[] b, int len, long offset) {
        byte[] want = new byte[len];
        fill(want, len, offset);
        for (int i = 0; i < len; i++) {
            if (b[i] != want[i]) {
                return offset + i;
            }
        }
        return -1;
    }

    /**
     * Writes {@code total} pattern bytes at about {@code rate} bytes per second (0 = as fast as possible), stopping
     * early at {@code deadline} ({@link System#nanoTime()}, 0 = none); {@code sentCounter[0]} follows the progress.
     */
    static long send(OutputStream out, long total, long rate, long deadline, long[] sentCounter) throws IOException {
        byte[] b = new byte[16384];
        long sent = 0;
        long start = System.nanoTime();
        while (sent < total && (deadline == 0 || System.nanoTime() - deadline < 0)) {
            int n = (int) Math.min(b.length, total - sent);
            if (rate > 0) {
                n = (int) Math.min(n, Math.max(1, rate / 50));
                long due = start + (long) (sent * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
            }
            fill(b, n, sent);
            out.write(b, 0, n);
            sent += n;
            if (sentCounter != null) {
                sentCounter[0] = sent;
            }
        }
        out.flush();
        return sent;
    }
}
