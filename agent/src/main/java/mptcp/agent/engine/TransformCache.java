package mptcp.agent.engine;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.zip.CRC32;

import mptcp.agent.log.Log;

/**
 * The class bytes the engine made in an earlier run of the same agent build: rewritten JDK classes (keyed by their
 * name, the JDK install and version, and the CRC-32 and length of the JDK's original bytes), the trampoline and the
 * dispatch class. A hit spares loading ASM and running it interpreted over a large JDK class (tens of ms at
 * start-up, mostly on the application's first socket).
 *
 * <p>The agent runs inside services, and these bytes become code in {@code java.base}, so the cache is used only when
 * it is private: a directory {@code mptcp-agent/<build>} under {@code $XDG_CACHE_HOME} or {@code ~/.cache} (else under
 * {@code java.io.tmpdir} as {@code mptcp-agent-<uid>/<build>}), created with mode 0700, and checked before every run
 * to be a directory (not a link) owned by this process's effective uid with no access for group or others; otherwise
 * nothing is read or written. Each file holds a magic, the CRC-32 of its content and the content; a file that does not
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

    /** The cache of agent build {@code build} for this user, or {@link #NONE} when no private directory can be had. */
    public static TransformCache open(String build) {
        try {
            String xdg = System.getenv("XDG_CACHE_HOME");
            String home = System.getProperty("user.home");
            File parent = xdg != null && xdg.startsWith("/") ? new File(xdg)
                    : home != null && home.startsWith("/") && new File(home).isDirectory() ? new File(home, ".cache")
                    : null;
            return open(parent, new File(System.getProperty("java.io.tmpdir", "/tmp")), build, effectiveUid());
        } catch (IOException | RuntimeException e) {
            Log.debug("no class cache: " + e);
            return NONE;
        }
    }

    /**
     * The cache of {@code build} in {@code cacheHome/mptcp-agent} (null: none), else in {@code tmp/mptcp-agent-<uid>},
     * for a process of effective uid {@code uid}; {@link #NONE} when neither is private.
     */
    static TransformCache open(File cacheHome, File tmp, String build, long uid) throws IOException {
        File dir = null;
        if (cacheHome != null) {
            try {
                dir = usable(new File(cacheHome, "mptcp-agent"), uid, true);
            } catch (IOException | RuntimeException e) {
                Log.debug("class cache: " + cacheHome + " not usable (" + e + ")");
            }
        }
        if (dir == null) {
            dir = usable(new File(tmp, "mptcp-agent-" + uid), uid, false);
        }
        if (dir == null) {
            return NONE;
        }
        File own = usable(new File(dir, build), uid, false);
        return own == null ? NONE : new TransformCache(own);
    }

    public boolean enabled() {
        return dir != null;
    }

    /** The directory, for logs and the doctor; null when disabled. */
    public File directory() {
        return dir;
    }

    /**
     * {@code dir}, created with mode 0700 if missing (its parents as the system makes them when {@code parents}), if
     * it is a real directory owned by {@code uid} with no access for group and others; else null.
     */
    private static File usable(File dir, long uid, boolean parents) throws IOException {
        Path p = dir.toPath();
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            if (parents && p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            try {
                Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made by another JVM meanwhile: checked below like any other
            }
        }
        Map<String, Object> a = Files.readAttributes(p, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        boolean directory = (mode & 0170000) == 0040000;
        if (!directory || ((Integer) a.get("uid")).longValue() != uid || (mode & 077) != 0) {
            Log.debug("class cache not used: " + dir + " is not a directory of uid " + uid + " with mode 0700 ("
                    + (directory ? "uid " + a.get("uid") + ", mode " + Integer.toOctalString(mode & 0777) : "not a directory")
                    + ")");
            return null;
        }
        return dir;
    }

    /** This process's effective uid, from /proc/self/status (the owner of the files it creates). */
    static long effectiveUid() throws IOException {
        try (FileInputStream in = new FileInputStream("/proc/self/status")) {
            String status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            int i = status.indexOf("\nUid:");
            if (i < 0) {
                throw new IOException("no Uid line in /proc/self/status");
            }
            String[] ids = status.substring(i + 5, status.indexOf('\n', i + 1)).trim().split("\t");
            return Long.parseLong(ids[1].trim());
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
        File tmp = new File(dir, f.getName() + "." + ProcessHandle.current().pid() + "." + Thread.currentThread().getId() + ".tmp");
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
