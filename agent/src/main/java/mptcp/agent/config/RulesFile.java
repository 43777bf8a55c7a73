package mptcp.agent.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

/**
 * Reads the file of {@code rules=@FILE}: only a regular file of at most {@link #MAX_BYTES}, never more bytes than its
 * size said, and never longer than {@link #DEADLINE_MS}, whatever the path names or becomes.
 *
 * <p>A FIFO, a directory, a device or a socket is refused from its {@code stat} without being opened. The path may
 * still be swapped for something else between that check and the open, and Java opens without {@code O_NONBLOCK}:
 * opening a FIFO for reading blocks until a writer comes, reading {@code /dev/zero} never ends. So the check, the open
 * and the read run on a daemon thread of their own while the caller waits at most {@link #DEADLINE_MS}: a swapped-in
 * FIFO costs the caller that wait and one error line, never a hung JVM start or CLI; the thread, blocked in
 * {@code open(2)}, closes whatever it opens later and ends. The read stops one byte after the size {@code stat}
 * gave: a file that yields more (a device swapped in, a {@code /proc} file that claims size 0, a file still
 * growing) is refused, so at most {@link #MAX_BYTES} + 1 bytes are ever read.
 */
final class RulesFile implements Runnable {
    /** The largest rules file read (1 MiB); the same bound applies to inline rules. */
    static final int MAX_BYTES = 1 << 20;
    /** The longest the caller waits for the file (a regular file takes microseconds). */
    static final long DEADLINE_MS = 5000;

    private final Path path;
    private final boolean checkFirst;
    // guarded by this
    private byte[] bytes;
    private String error;
    private boolean done;
    private boolean abandoned;

    private RulesFile(Path path, boolean checkFirst) {
        this.path = path;
        this.checkFirst = checkFirst;
    }

    /**
     * The text of the rules file {@code file} (UTF-8; a malformed byte becomes U+FFFD, which no rule accepts).
     * @param what how errors name it, e.g. "the rules file '/etc/mptcp.rules' (rules=@FILE in agent arguments)"
     * @throws IllegalArgumentException one line: what is wrong with the file
     */
    static String read(String file, String what) {
        return new String(read(file, what, true, DEADLINE_MS), StandardCharsets.UTF_8);
    }

    /** {@link #read}, with the type check skipped (tests: what a swap after the check meets) and another deadline. */
    static byte[] read(String file, String what, boolean checkFirst, long deadlineMs) {
        Path path;
        try {
            path = Paths.get(file);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("cannot read " + what + ": not a valid file name");
        }
        RulesFile reader = new RulesFile(path, checkFirst);
        Thread t = new Thread(reader, "mptcp-agent-rules-file");
        t.setDaemon(true);
        t.start();
        synchronized (reader) {
            long end = System.nanoTime() + deadlineMs * 1_000_000L;
            try {
                for (long left = deadlineMs; !reader.done && left > 0; left = (end - System.nanoTime()) / 1_000_000L) {
                    reader.wait(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!reader.done) {
                reader.abandoned = true;
                throw new IllegalArgumentException("cannot read " + what + ": it did not open or read within "
                        + deadlineMs + " ms (a FIFO or a device? only a regular file is read)");
            }
            if (reader.error != null) {
                throw new IllegalArgumentException("cannot read " + what + ": " + reader.error);
            }
            return reader.bytes;
        }
    }

    @Override
    public void run() {
        byte[] b = null;
        String e;
        try {
            e = checkFirst ? check() : null;
            if (e == null) {
                long size = limit;
                try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) { // may block: see the class
                    synchronized (this) {
                        if (abandoned) {
                            return; // the caller gave up long ago: close what a late writer let us open
                        }
                    }
                    ByteBuffer buf = ByteBuffer.allocate((int) size + 1);
                    while (buf.hasRemaining() && ch.read(buf) >= 0) {
                        // until the end, or one byte more than the size
                    }
                    if (buf.position() > size) {
                        e = checkFirst ? "it holds more than the " + size + " bytes its size says (not an ordinary"
                                + " file, e.g. under /proc or /sys, or one still being written); only a regular file of"
                                + " at most 1 MiB is read"
                                : "more than " + MAX_BYTES + " bytes (1 MiB), the most a rules file may hold";
                    } else {
                        b = java.util.Arrays.copyOf(buf.array(), buf.position());
                    }
                }
            }
        } catch (IOException | RuntimeException x) {
            e = reason(x);
        } catch (OutOfMemoryError x) {
            e = "no memory to read it";
        }
        synchronized (this) {
            bytes = b;
            error = e;
            done = true;
            notifyAll();
        }
    }

    /** The most bytes the file may yield: its size once {@link #check} saw it, else the cap. */
    private long limit = MAX_BYTES;

    /** Null when {@link #path} is a regular file of at most {@link #MAX_BYTES}, else why not. */
    private String check() throws IOException {
        String type;
        long size;
        try {
            Map<String, Object> a = java.nio.file.Files.readAttributes(path, "unix:mode,size");
            int mode = (Integer) a.get("mode");
            size = (Long) a.get("size");
            type = type(mode & 0170000);
        } catch (UnsupportedOperationException | IllegalArgumentException x) {
            BasicFileAttributes a = java.nio.file.Files.readAttributes(path, BasicFileAttributes.class);
            size = a.size();
            type = a.isRegularFile() ? null : a.isDirectory() ? "a directory" : "not a regular file";
        }
        if (type != null) {
            return "it is " + type + "; only a regular file is read";
        }
        if (size > MAX_BYTES) {
            return "it is " + size + " bytes, more than the 1 MiB (" + MAX_BYTES + " bytes) a rules file may hold";
        }
        limit = size;
        return null;
    }

    /** What an {@code st_mode} file type is, or null for a regular file. */
    private static String type(int type) {
        switch (type) {
            case 0100000: return null;
            case 0040000: return "a directory";
            case 0010000: return "a FIFO (named pipe)";
            case 0020000: return "a character device";
            case 0060000: return "a block device";
            case 0140000: return "a socket";
            default: return "not a regular file";
        }
    }

    /** Why an I/O failed, in a few words that never quote the path (the caller names the file once). */
    private static String reason(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException) { // its message names the path: only its reason
            String r = ((FileSystemException) e).getReason();
            return r == null ? e.getClass().getSimpleName() : Excerpt.name(r);
        }
        String m = e.getMessage(); // the system's words (e.g. "Is a directory"), never the file's content
        return m == null ? e.getClass().getSimpleName() : Excerpt.name(m);
    }
}
