package mptcp.agent.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

import mptcp.agent.log.Log;
import mptcp.sys.PrivateDir;

/**
 * The class bytes the engine made in an earlier run of the same agent build: rewritten JDK classes (keyed by their
 * name, the JDK install and version, and the CRC-32 and length of the JDK's original bytes), the trampoline and the
 * dispatch class. A hit spares loading ASM and running it interpreted over a large JDK class (tens of ms at
 * start-up, mostly on the application's first socket).
 *
 * <p>The agent runs inside services, and these bytes become code in {@code java.base}, so the cache lives only in the
 * agent's private directory (mptcp.sys.PrivateDir: {@code mptcp-agent/<build>} under {@code ~/.cache} or
 * {@code java.io.tmpdir}, mode 0700, reached by descriptor through directories no other uid can change) and each file
 * is read relative to that directory's checked descriptor, only if it is a regular file of this uid that nobody else
 * can write; otherwise nothing is read or written. Each file holds a magic, the CRC-32 of its content and the content;
 * a file that does not check out is ignored and rewritten, and so is one whose content is not the class asked for
 * ({@link ClassCheck}: another class, garbage, a class-file version this JVM cannot define, a JDK class not rewritten):
 * a bad entry costs the rewrite, never the application. Files are written to a temporary name and renamed, so a reader
 * never sees half a file. Switched off with {@code cache=off}.
 *
 * <p>The directory is held open (two file descriptors) from {@link #open}, through the engine's install and the
 * application's start-up, where the JDK classes it rewrites are loaded (its first sockets): until the first class the
 * JVM loads {@link #HOLD_SECONDS} s after the install ({@link #tick}). A class loaded later opens it again for its
 * one read (and write), through the same walk from {@code /} and the same checks (about 1 ms, interpreted), and
 * closes it at once.
 */
public final class TransformCache {
    private static final byte[] MAGIC = "MPTCPAC1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 8;
    /** No class of ours is larger. */
    private static final long MAX = 8 << 20;
    /** The disabled cache. */
    public static final TransformCache NONE = new TransformCache(null, false);

    /** The directory's path, for logs and tests; null when disabled. */
    private final Path path;
    /** How long after the install the directory stays open for the application's start-up. */
    static final long HOLD_SECONDS = 10;
    /** The directory while it is held; null afterwards (each use opens it then). */
    private volatile PrivateDir held;
    /** System.nanoTime() from which {@link #tick} releases it; meaningful once {@link #holdFor} was called. */
    private volatile long releaseAt;
    private volatile boolean holding;

    /** Whether {@link #held} came from PrivateDir.claim (then released through it). */
    private final boolean claimant;

    private TransformCache(PrivateDir dir, boolean claimant) {
        this.path = dir == null ? null : dir.path;
        this.held = dir;
        this.claimant = claimant;
    }

    /**
     * The cache of the agent build that mptcp.sys.PrivateDir was told to use, in that private directory, or
     * {@link #NONE} when it has none (cache=off, or no private directory could be had).
     */
    public static TransformCache open() {
        PrivateDir dir = PrivateDir.claim(); // the directory the native layer opened for jffi's stub, if still open
        String problem = PrivateDir.problem();
        if (problem != null) {
            Log.debug(dir == null ? "class cache not used: " + problem : "class cache in " + dir.path + ": " + problem);
        }
        return dir == null ? NONE : new TransformCache(dir, true);
    }

    /** The cache of {@code build} as {@link PrivateDir#create} finds its directory (tests). */
    static TransformCache open(Path cacheHome, Path tmp, String build, long uid) throws IOException {
        return new TransformCache(PrivateDir.create(cacheHome, tmp, build, uid), false);
    }

    public boolean enabled() {
        return path != null;
    }

    /** The directory, for logs and the doctor; null when disabled. */
    public Path directory() {
        return path;
    }

    /** Keeps the directory held since {@link #open} for {@code seconds} more, then {@link #tick} releases it. */
    void holdFor(long seconds) {
        releaseAt = System.nanoTime() + seconds * 1_000_000_000L;
        holding = true;
    }

    /**
     * Called at every class load (by the engine's transformer): releases the directory once its time is over. One
     * volatile read when there is nothing to release.
     */
    void tick() {
        if (held != null && holding && System.nanoTime() - releaseAt >= 0) {
            release();
        }
    }

    /** Closes the directory held since {@link #open}: from now on each use opens it for itself. */
    public void release() {
        PrivateDir d = held;
        held = null;
        if (d != null) {
            if (claimant) {
                PrivateDir.release(true);
            }
            d.close(); // when it was not the shared one
        }
    }

    /** CRC-32 and length of {@code bytes}, as one key. */
    public static long key(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length);
        return crc.getValue() << 32 ^ bytes.length;
    }

    /** CRC-32 and length of {@code text}, as one key. */
    public static long key(String text) {
        return key(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String file(String name, long key) {
        return name.replace('/', '.') + "-" + Long.toHexString(key) + ".class";
    }

    /**
     * The bytes stored for class {@code name} (internal name) under {@code key}, or null: none, or the entry is not
     * a class file named {@code name} of version {@code major} (this JVM defines the class as it was made) whose
     * constant pool names {@code reference} (when not null: the trampoline, which every class the engine rewrote
     * calls).
     */
    public byte[] get(String name, long key, int major, String reference) {
        if (path == null) {
            return null;
        }
        String file = file(name, key);
        PrivateDir d = held;
        boolean own = d == null;
        try {
            if (own && (d = PrivateDir.reopen(path)) == null) {
                return null;
            }
            byte[] all = d.read(file, MAX);
            if (all == null) {
                return null;
            }
            if (all.length < HEADER || !java.util.Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                throw new IOException("no cache header");
            }
            long crc = 0;
            for (int i = 0; i < 8; i++) {
                crc = crc << 8 | (all[MAGIC.length + i] & 0xFF);
            }
            CRC32 check = new CRC32();
            check.update(all, HEADER, all.length - HEADER);
            if (check.getValue() != crc) {
                throw new IOException("does not match its checksum");
            }
            byte[] bytes = java.util.Arrays.copyOfRange(all, HEADER, all.length);
            String wrong = ClassCheck.problem(bytes, name, major, reference);
            if (wrong != null) {
                throw new IOException(wrong);
            }
            return bytes;
        } catch (IOException | RuntimeException e) {
            Log.debug("class cache: " + file + " not used (" + e.getMessage() + "); made again");
            return null;
        } finally {
            if (own && d != null) {
                d.close();
            }
        }
    }

    /** Stores {@code bytes} for {@code name} under {@code key}; a failure only costs the next run the work again. */
    public void put(String name, long key, byte[] bytes) {
        if (path == null) {
            return;
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length);
        long c = crc.getValue();
        byte[] header = java.util.Arrays.copyOf(MAGIC, HEADER);
        for (int i = 0; i < 8; i++) {
            header[MAGIC.length + i] = (byte) (c >>> (56 - 8 * i));
        }
        PrivateDir d = held;
        boolean own = d == null;
        try {
            if (own && (d = PrivateDir.reopen(path)) == null) {
                return;
            }
            d.write(file(name, key), header, bytes);
        } catch (RuntimeException e) {
            // not kept: the next run makes it again
        } finally {
            if (own && d != null) {
                d.close();
            }
        }
    }
}
