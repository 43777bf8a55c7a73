package mptcp.agent.engine;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

import mptcp.agent.log.Log;
import mptcp.sys.PrivateDir;

/**
 * The class bytes the engine made in an earlier run of the same agent build: rewritten JDK classes (keyed by their
 * name, the JDK install and version, and the CRC-32 and length of the JDK's original bytes), the trampoline and the
 * dispatch class. A hit spares loading ASM and running it interpreted over a large JDK class (tens of ms at
 * start-up, mostly on the application's first socket).
 *
 * <p>The agent runs inside services, and these bytes become code in {@code java.base}, so the cache is used only when
 * it is private: the agent's private directory (mptcp.sys.PrivateDir: {@code mptcp-agent/<build>} under
 * {@code ~/.cache} or {@code java.io.tmpdir}, mode 0700, checked before every run to be a real directory of this
 * process's effective uid with no access for group or others); otherwise nothing is read or written. Each file holds a magic, the CRC-32 of its content and the content; a file that does not
 * check out is ignored and rewritten. Files are written to a temporary name and renamed, so a reader never sees half a
 * file. Switched off with {@code cache=off}.
 */
public final class TransformCache {
    private static final byte[] MAGIC = "MPTCPAC1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 8;
    /** The disabled cache. */
    public static final TransformCache NONE = new TransformCache(null);

    private final File dir;

    private TransformCache(File dir) {
        this.dir = dir;
    }

    /**
     * The cache of the agent build that mptcp.sys.PrivateDir was told to use, in that private directory, or
     * {@link #NONE} when it has none (cache=off, or no private directory could be had).
     */
    public static TransformCache open() {
        File dir = PrivateDir.get();
        if (dir == null) {
            String problem = PrivateDir.problem();
            if (problem != null) {
                Log.debug("class cache not used: " + problem);
            }
            return NONE;
        }
        return new TransformCache(dir);
    }

    /** The cache of {@code build} as {@link PrivateDir#open} finds its directory (tests). */
    static TransformCache open(File cacheHome, File tmp, String build, long uid) throws IOException {
        File dir = PrivateDir.open(cacheHome, tmp, build, uid);
        return dir == null ? NONE : new TransformCache(dir);
    }

    public boolean enabled() {
        return dir != null;
    }

    /** The directory, for logs and the doctor; null when disabled. */
    public File directory() {
        return dir;
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

    private File file(String name, long key) {
        return new File(dir, name.replace('/', '.') + "-" + Long.toHexString(key) + ".class");
    }

    /** The bytes stored for {@code name} under {@code key}, or null. */
    public byte[] get(String name, long key) {
        if (dir == null) {
            return null;
        }
        File f = file(name, key);
        if (!f.isFile()) {
            return null;
        }
        try (FileInputStream in = new FileInputStream(f)) {
            byte[] all = in.readAllBytes();
            if (all.length < HEADER || !java.util.Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                return null;
            }
            long crc = 0;
            for (int i = 0; i < 8; i++) {
                crc = crc << 8 | (all[MAGIC.length + i] & 0xFF);
            }
            CRC32 check = new CRC32();
            check.update(all, HEADER, all.length - HEADER);
            if (check.getValue() != crc) {
                Log.debug("class cache: " + f + " does not check out; made again");
                return null;
            }
            return java.util.Arrays.copyOfRange(all, HEADER, all.length);
        } catch (IOException e) {
            return null;
        }
    }

    /** Stores {@code bytes} for {@code name} under {@code key}; a failure only costs the next run the work again. */
    public void put(String name, long key, byte[] bytes) {
        if (dir == null) {
            return;
        }
        File f = file(name, key);
        File tmp = new File(dir, f.getName() + PrivateDir.temporarySuffix());
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length);
        long c = crc.getValue();
        byte[] header = java.util.Arrays.copyOf(MAGIC, HEADER);
        for (int i = 0; i < 8; i++) {
            header[MAGIC.length + i] = (byte) (c >>> (56 - 8 * i));
        }
        try (FileOutputStream out = new FileOutputStream(tmp)) {
            out.write(header);
            out.write(bytes);
        } catch (IOException e) {
            tmp.delete();
            return;
        }
        if (!tmp.renameTo(f)) {
            tmp.delete();
        }
    }
}
