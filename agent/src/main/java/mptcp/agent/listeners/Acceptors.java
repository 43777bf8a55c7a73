package mptcp.agent.listeners;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import mptcp.sys.Handover;

/**
 * Threads of this process blocked in accept(2) on an fd number, or in poll(2)/ppoll(2) on that fd alone (a timed
 * accept), read from /proc/self/task/TID/syscall. After the swap they still wait on the old file; the JDK's interrupt signal (what {@code NativeThread.signal} sends when a
 * channel is closed) makes the call return EINTR, and the JDK's accept loops retry on the same fd number, now the new
 * file. The signal is only sent when this process handles it (SigCgt), so it can never kill the process.
 */
final class Acceptors {
    private static final boolean X86 = "amd64".equals(System.getProperty("os.arch"));
    private static final int ACCEPT = X86 ? 43 : 202;
    private static final int ACCEPT4 = X86 ? 288 : 242;
    /** poll(2) (x86-64 only; aarch64 has none) and ppoll(2): a timed accept (SO_TIMEOUT) waits there, one pollfd. */
    private static final int POLL = X86 ? 7 : -1;
    private static final int PPOLL = X86 ? 271 : 73;

    private Acceptors() {
    }

    /** True when the JDK's interrupt signal has a handler in this process (libnio's NativeThread installed it). */
    static boolean signalHandled() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("SigCgt:")) {
                    long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (mask & (1L << (Handover.JDK_INTERRUPT_SIGNAL - 1))) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: do not signal
        }
        return false;
    }

    /**
     * True when the single struct pollfd at {@code address} (hex) is for {@code fd}: read through /proc/self/mem, which
     * answers an error rather than fault should the memory be gone.
     */
    private static boolean polls(String address, int fd) {
        long at = Long.decode(address);
        if (at <= 0) {
            return false;
        }
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/self/mem", "r")) {
            mem.seek(at);
            int value = Integer.reverseBytes(mem.readInt()); // struct pollfd {int fd; ...}, little-endian
            return value == fd;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Signals every thread now blocked in accept on {@code fd}; returns how many, or -1 when it may not signal. */
    static int wake(int fd) {
        if (!signalHandled()) {
            return -1;
        }
        int woken = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Paths.get("/proc/self/task"))) {
            for (Path task : tasks) {
                String s;
                try {
                    s = new String(Files.readAllBytes(task.resolve("syscall"))).trim();
                } catch (IOException e) {
                    continue;
                }
                String[] f = s.split(" ");
                if (f.length < 2 || !f[0].matches("[0-9]+")) {
                    continue;
                }
                int nr = Integer.parseInt(f[0]);
                boolean waiting = (nr == ACCEPT || nr == ACCEPT4) && Long.decode(f[1]) == fd
                        || (nr == POLL || nr == PPOLL) && f.length > 2 && Long.decode(f[2]) == 1 && polls(f[1], fd);
                if (waiting) {
                    if (Handover.signalThread(Integer.parseInt(task.getFileName().toString()), Handover.JDK_INTERRUPT_SIGNAL) == 0) {
                        woken++;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort
        }
        return woken;
    }
}
