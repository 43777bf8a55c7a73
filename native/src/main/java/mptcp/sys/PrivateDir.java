package mptcp.sys;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The agent's private directory for what it keeps between runs of one agent build and later turns into code: the
 * classes it rewrote (the agent's engine.TransformCache) and jffi's native stub ({@link StubFile}). It is
 * {@code mptcp-agent/<build>} under {@code $XDG_CACHE_HOME} or {@code ~/.cache}, else
 * {@code mptcp-agent-<uid>/<build>} under {@code java.io.tmpdir}; each level is created with mode 0700 and checked
 * before use to be a directory (not a link) owned by this process's effective uid with no access for group or others.
 * When none qualifies there is no directory, and nothing is kept.
 *
 * <p>Looked at once per JVM, by whichever thread asks first (the agent's warm-up thread, which needs the stub before
 * the application's first socket, usually before the engine needs its classes); the others wait for that answer.
 */
public final class PrivateDir {
    private static String build;
    private static boolean looked;
    private static File dir;
    private static String problem;
    /** The effective uid {@link #get} checked the directory against. */
    private static long uid = -1;

    private PrivateDir() {
    }

    /** Keeps things for agent build {@code build} from now on (the agent's cache=on). Call before {@link #get}. */
    public static synchronized void use(String build) {
        PrivateDir.build = build;
    }

    /** The directory, or null: not in use (cache=off), or none is private ({@link #problem} says why). */
    public static synchronized File get() {
        if (!looked && build != null) {
            looked = true;
            try {
                String xdg = System.getenv("XDG_CACHE_HOME");
                String home = System.getProperty("user.home");
                File parent = xdg != null && xdg.startsWith("/") ? new File(xdg)
                        : home != null && home.startsWith("/") && new File(home).isDirectory() ? new File(home, ".cache")
                        : null;
                uid = effectiveUid();
                dir = open(parent, new File(System.getProperty("java.io.tmpdir", "/tmp")), build, uid);
            } catch (IOException | RuntimeException e) {
                problem = e.toString();
            }
        }
        return dir;
    }

    /** The effective uid the directory of {@link #get} belongs to (read once), or -1 when there is none. */
    static synchronized long uid() {
        return dir == null ? -1 : uid;
    }

    /** Why {@link #get} has no directory, for the agent's debug log; null when it has one or was not asked. */
    public static synchronized String problem() {
        return dir == null ? problem : null;
    }

    /**
     * The directory of {@code build} in {@code cacheHome/mptcp-agent} (null: none), else in {@code tmp/mptcp-agent-<uid>},
     * for a process of effective uid {@code uid}; null when neither is private.
     */
    public static File open(File cacheHome, File tmp, String build, long uid) throws IOException {
        File base = null;
        if (cacheHome != null) {
            try {
                base = usable(new File(cacheHome, "mptcp-agent"), uid, true);
            } catch (IOException | RuntimeException e) {
                problem = cacheHome + " not usable (" + e + ")";
            }
        }
        if (base == null) {
            base = usable(new File(tmp, "mptcp-agent-" + uid), uid, false);
        }
        return base == null ? null : usable(new File(base, build), uid, false);
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
            problem = dir + " is not a directory of uid " + uid + " with mode 0700 ("
                    + (directory ? "uid " + a.get("uid") + ", mode " + Integer.toOctalString(mode & 0777) : "not a directory")
                    + ")";
            return null;
        }
        return dir;
    }

    /**
     * Whether {@code file} is a regular file (not a link) owned by {@code uid} that only its owner can write: what a
     * file of the directory must be before it is read.
     */
    static boolean ownFile(File file, long uid) {
        try {
            Map<String, Object> a = Files.readAttributes(file.toPath(), "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            return (mode & 0170000) == 0100000 && ((Integer) a.get("uid")).longValue() == uid && (mode & 022) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * A suffix for a temporary file name in the directory that no other writer uses at the same time: this process's
     * pid (from /proc/self, not ProcessHandle, whose class initialiser starts a thread pool) and the thread's id.
     */
    public static String temporarySuffix() {
        String pid;
        try {
            pid = new File("/proc/self").getCanonicalFile().getName();
        } catch (IOException e) {
            pid = "t" + Long.toHexString(System.nanoTime());
        }
        return "." + pid + "." + Thread.currentThread().getId() + ".tmp";
    }

    /** This process's effective uid, from /proc/self/status (the owner of the files it creates). */
    public static long effectiveUid() throws IOException {
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
}
