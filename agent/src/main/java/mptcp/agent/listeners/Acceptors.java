package mptcp.agent.listeners;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import mptcp.sys.Handover;

/**
 * Threads of this process blocked in accept(2) on an fd number (read from /proc/self/task/TID/syscall). After the
 * swap they still wait on the old file; the JDK's interrupt signal (what {@code NativeThread.signal} sends when a
 * channel is closed) makes the call return EINTR, and the JDK's accept loops retry on the same fd number, now the new
 * file. The signal is only sent when this process handles it (SigCgt), so it can never kill the process.
 */
final class Acceptors {
    private static final boolean X86 = "amd64".equals(System.getProperty("os.arch"));
    private static final int ACCEPT = X86 ? 43 : 202;
    private static final int ACCEPT4 = X86 ? 288 : 242;

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
                if ((nr == ACCEPT || nr == ACCEPT4) && Long.decode(f[1]) == fd) {
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
