package mptcp.it.servers;

import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * A delay line for the tests (this kernel has no netem): a TUN device whose packets are written back into it
 * {@code millis} later. Routed through it (policy routing: {@code ip rule add from ADDR iif lo lookup T}, table T's
 * default route via the TUN device, forwarding on), every packet a namespace sends from ADDR comes back in through the
 * TUN device after the delay and is forwarded on its way: a destination with {@code millis} more round-trip time, its
 * SYN-ACKs included, every other address of the namespace untouched. Prints {@code READY} once the device exists; runs
 * until killed.
 * <pre>DelayLine TUN_NAME MILLIS</pre>
 */
public final class DelayLine {
    /** open, ioctl, read, write of libc. */
    public interface C {
        int open(String path, int flags);

        int ioctl(int fd, long request, byte[] ifreq);

        long read(int fd, @Out byte[] buffer, long size);

        long write(int fd, @In byte[] buffer, long size);
    }

    private static final int O_RDWR = 2;
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;

    private static final class Packet implements Delayed {
        final long due;
        final byte[] bytes;

        Packet(long due, byte[] bytes) {
            this.due = due;
            this.bytes = bytes;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(due - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(due, ((Packet) o).due);
        }
    }

    private DelayLine() {
    }

    public static void main(String[] args) throws Exception {
        C c = LibraryLoader.create(C.class).load("c");
        long delay = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));
        int fd = c.open("/dev/net/tun", O_RDWR);
        if (fd < 0) {
            throw new IllegalStateException("cannot open /dev/net/tun");
        }
        byte[] ifreq = new byte[40];
        byte[] name = args[0].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, ifreq, 0, Math.min(15, name.length));
        short flags = (short) (IFF_TUN | IFF_NO_PI);
        ifreq[16] = (byte) flags; // little-endian short
        ifreq[17] = (byte) (flags >> 8);
        if (c.ioctl(fd, TUNSETIFF, ifreq) < 0) {
            throw new IllegalStateException("TUNSETIFF " + args[0] + " failed");
        }
        DelayQueue<Packet> queue = new DelayQueue<>();
        Thread writer = new Thread(() -> {
            try {
                for (;;) {
                    Packet p = queue.take();
                    c.write(fd, p.bytes, p.bytes.length);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "delay-line-writer");
        writer.setDaemon(true);
        writer.start();
        System.out.println("READY");
        System.out.flush();
        byte[] buffer = new byte[65536];
        for (;;) {
            long n = c.read(fd, buffer, buffer.length);
            if (n > 0) {
                queue.add(new Packet(System.nanoTime() + delay, java.util.Arrays.copyOf(buffer, (int) n)));
            }
        }
    }
}
