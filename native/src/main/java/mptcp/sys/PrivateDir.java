package mptcp.sys;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The agent's private directory for what it keeps between runs of one agent build and later turns into code: the
 * classes it rewrote (the agent's engine.TransformCache) and jffi's native stub ({@link StubFile}). It is
 * {@code mptcp-agent/<build>} under {@code $XDG_CACHE_HOME} or {@code ~/.cache}, else
 * {@code mptcp-agent-<uid>/<build>} under {@code java.io.tmpdir}. When none qualifies there is no directory, and
 * nothing is kept. docs/security.md gives the threat model.
 *
 * <p>Everything goes through directory descriptors, never a path someone could swap: the JDK's
 * {@link SecureDirectoryStream} ({@code openat}, {@code fstatat}, {@code renameat}, {@code unlinkat} relative to a
 * descriptor, {@code O_NOFOLLOW}) in pure Java, since jffi, the agent's only way to make a system call, is itself loaded
 * from this directory. An open walks the directory's canonical path from {@code /} one component at a time: each is
 * looked at (type, owner, mode: the JDK gives the uid and the sticky bit only by path, safe here because its parent
 * was checked first), opened with {@code O_NOFOLLOW} relative to its parent's descriptor, and bound by the fstat of its
 * own descriptor to the inode looked at (a swap during the walk fails: the open finds a link, or another inode). Every
 * directory above the two
 * private levels must be one that no other uid can rename entries in, as OpenSSH's StrictModes asks: owned by root or
 * by this uid, and not writable by group or others unless the sticky bit is set (so {@code /tmp} is fine, a
 * {@code mkdir -m 0777} directory or one of another user is not). The two private levels ({@code mptcp-agent} and the
 * build) must be directories of this effective uid with no access for group or others, and each file read from them a
 * regular file (not a link) of this uid that group and others cannot write.
 *
 * <p>An instance is one open descriptor of the build directory (two file descriptors: the JDK's directory stream keeps
 * a duplicate for reading entries); its owner closes it as soon as the batch of work is done. The first
 * {@link #open} of a JVM makes the directories that are missing and, when it makes a new build directory, removes the
 * directories other agent builds left next to it (see {@link #removeOtherBuilds}); its directory is then shared (the
 * native layer for jffi's stub, the class cache, which may {@link #claim} it for the start-up) until
 * {@link #release}d, and later opens walk and check again. Nothing is opened when the process is short of
 * descriptors ({@link #nio}).
 */
public final class PrivateDir implements AutoCloseable {
    private static final Path ROOT = Path.of("/");
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW,
            LinkOption.NOFOLLOW_LINKS);
    /**
     * Reads and writes go in pieces of this size at most (the JDK copies each through a per-thread cached direct
     * buffer of that size): one read for any class the engine rewrites, five for jffi's stub.
     */
    private static final int CHUNK = 32 << 10;

    private static String build;
    private static boolean looked;
    /** The canonical path of the build directory the first open chose; null: none. */
    private static Path chosen;
    private static String problem;
    /** This process's effective uid, read by the first open. */
    private static volatile long processUid = -1;
    /**
     * The first open's directory, which later {@link #open}s return instead of walking again, until
     * {@link #release}d: by the native layer once jffi's stub is loaded, unless the class cache {@link #claim}ed it
     * for the application's start-up.
     */
    private static PrivateDir shared;
    private static boolean claimed;

    private final SecureDirectoryStream<Path> dir;
    /** The directory's canonical path (what a library is loaded by; the walk has checked every component of it). */
    public final Path path;
    private final long uid;
    /** For a directory made for one use ({@link #fresh}): its parent, to remove it by; else null. */
    private final SecureDirectoryStream<Path> parent;

    private PrivateDir(SecureDirectoryStream<Path> dir, Path path, long uid, SecureDirectoryStream<Path> parent) {
        this.dir = dir;
        this.path = path;
        this.uid = uid;
        this.parent = parent;
    }

    /** Keeps things for agent build {@code build} from now on (the agent's cache=on). Call before {@link #open}. */
    public static synchronized void use(String build) {
        PrivateDir.build = build;
    }

    /**
     * The private directory of this JVM's agent build, opened and checked; null when it is not in use (cache=off) or
     * none is private ({@link #problem} says why). The caller closes it once its batch of work is done (which leaves
     * the first open's directory open while it is shared: see {@link #release}).
     */
    public static PrivateDir open() {
        Path known;
        synchronized (PrivateDir.class) {
            if (build == null) {
                return null;
            }
            if (shared != null) {
                return shared;
            }
            if (!looked) {
                looked = true;
                PrivateDir d = null;
                try {
                    nio();
                    String xdg = System.getenv("XDG_CACHE_HOME");
                    String home = System.getProperty("user.home");
                    Path cacheHome = xdg != null && xdg.startsWith("/") ? Path.of(xdg)
                            : home != null && home.startsWith("/") && Files.isDirectory(Path.of(home)) ? Path.of(home, ".cache")
                            : null;
                    processUid = effectiveUid();
                    d = create(cacheHome, Path.of(System.getProperty("java.io.tmpdir", "/tmp")), build, processUid);
                } catch (IOException | RuntimeException e) {
                    problem = e.getMessage();
                }
                chosen = d == null ? null : d.path;
                shared = d;
                return d;
            }
            known = chosen;
        }
        return known == null ? null : reopen(known);
    }

    /**
     * {@link #open}, for a user that keeps the directory open beyond the native layer's use of it (the class cache,
     * through the application's start-up) and calls {@link #release} itself.
     */
    public static synchronized PrivateDir claim() {
        PrivateDir d = open();
        if (d != null && d == shared) {
            claimed = true;
        }
        return d;
    }

    /**
     * Closes the shared directory of the first open (later opens walk again): {@code byClaimant} from the user that
     * {@link #claim}ed it, else (the native layer, its stub loaded) only when nobody claimed it.
     */
    public static void release(boolean byClaimant) {
        PrivateDir d;
        synchronized (PrivateDir.class) {
            d = shared;
            if (d == null || claimed && !byClaimant) {
                return;
            }
            shared = null;
            claimed = false;
        }
        d.closeNow();
    }

    /**
     * The build directory {@code path} (a canonical path an earlier open returned), walked and checked again as the
     * first time but nothing made; null when that fails (gone: another build's JVM removed it, say).
     */
    public static PrivateDir reopen(Path path) {
        try {
            if (!roomy) {
                spare(); // a later walk takes up to four descriptors for a moment: not from an application near its limit
            }
            long uid = processUid;
            if (uid < 0) {
                processUid = uid = effectiveUid();
            }
            return open(path.getParent().getParent(), path.getParent().getFileName().toString(),
                    path.getFileName().toString(), uid, false);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Why the first {@link #open} found no directory, or did not use {@code $XDG_CACHE_HOME} or {@code ~/.cache}, for
     * the agent's debug log; null when nothing was refused.
     */
    public static synchronized String problem() {
        return problem;
    }

    /**
     * The directory of {@code build} in {@code cacheHome/mptcp-agent} (null: none), else in
     * {@code tmp/mptcp-agent-<uid>}, for a process of effective uid {@code uid}, made where missing (the first open of
     * a JVM); null when neither is private.
     */
    public static PrivateDir create(Path cacheHome, Path tmp, String build, long uid) throws IOException {
        String first = null;
        if (cacheHome != null) {
            try {
                return open(cacheHome, "mptcp-agent", build, uid, true);
            } catch (IOException | RuntimeException e) {
                first = cacheHome + " not used: " + e.getMessage();
                problem = first;
            }
        }
        try {
            return open(tmp, "mptcp-agent-" + uid, build, uid, true);
        } catch (IOException e) {
            throw first == null ? e : new IOException(first + "; " + tmp + " not used: " + e.getMessage(), e);
        }
    }

    /**
     * {@code home/base/build}: {@code home} and every directory above it trusted, {@code base} and {@code build}
     * private; with {@code create}, what is missing is made (mode 0700), and a new build directory has the other
     * builds' directories in {@code base} removed.
     */
    private static PrivateDir open(Path home, String base, String build, long uid, boolean create) throws IOException {
        if (create && Files.notExists(home, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(home, privateMode());
        }
        Path real = home.toRealPath(); // a legitimate symlinked home resolves here; each component is then checked
        SecureDirectoryStream<Path> h = walk(real, uid);
        SecureDirectoryStream<Path> b;
        try {
            b = child(h, real, base, uid, create);
        } finally {
            h.close();
        }
        Path basePath = real.resolve(base);
        try {
            SecureDirectoryStream<Path> d;
            try {
                d = child(b, basePath, build, uid, false);
            } catch (NoSuchFileException e) {
                if (!create) {
                    throw e;
                }
                boolean made = makeDirectory(basePath.resolve(build));
                d = child(b, basePath, build, uid, false);
                if (made) {
                    removeOtherBuilds(b, basePath, build, uid);
                }
            }
            return new PrivateDir(d, basePath.resolve(build), uid, null);
        } finally {
            b.close();
        }
    }

    /**
     * A new directory of mode 0700 made for one use in {@code parent} (whose path must be trusted like the
     * directories above the private one), named {@code prefix} and a number no other directory there has: its
     * creation fails rather than reuse an existing name. {@link #remove} deletes it with its content.
     */
    public static PrivateDir fresh(Path parent, String prefix, long uid) throws IOException {
        nio();
        Path real = parent.toRealPath();
        SecureDirectoryStream<Path> p = walk(real, uid);
        try {
            for (int attempt = 0; ; attempt++) {
                String name = prefix.concat(Long.toHexString(System.nanoTime()));
                Path path = real.resolve(name);
                try {
                    Files.createDirectory(path, privateMode());
                } catch (FileAlreadyExistsException e) {
                    if (attempt < 3) {
                        continue;
                    }
                    throw e;
                }
                return new PrivateDir(child(p, real, name, uid, false), path, uid, p);
            }
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** File descriptors that must be left when the agent starts using NIO's file classes (see {@link #nio}). */
    private static final int HEADROOM = 6;
    /** With fewer descriptors left than this at the first open, nothing is held open beyond a batch of work. */
    private static final int ROOMY = 64;
    private static volatile boolean nioReady;
    private static volatile boolean roomy;

    /**
     * Makes sure the JDK's NIO file classes that the directory stream's channels use are initialised, and that the
     * process has file descriptors to spare; IOException (no cache, no stub) otherwise. On JDK 17 the first file
     * channel initialises {@code FileDispatcherImpl}, whose initialiser takes a socket pair, and {@code IOUtil}, which
     * loads libnio: done by the agent while it holds descriptors of its own, in a process near its limit
     * ({@code ulimit -n}), such an initialiser fails, and a JDK class whose initialiser failed stays unusable for the
     * life of the JVM: the application's own sockets would then fail. So they are initialised here first, before the
     * agent opens anything of its own, and only when at least {@link #HEADROOM} descriptors are left (the limit from
     * /proc/self/limits, the descriptors in use from /proc/self/fd: java.io only, which the JVM initialised at boot).
     */
    private static void nio() throws IOException {
        if (nioReady) {
            return;
        }
        roomy = spare() >= ROOMY;
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(Path.of("/dev/null"))) {
            nioReady = c.isOpen();
        }
    }

    /**
     * How many descriptors below the soft limit ({@code ulimit -n}) are free; IOException when fewer than
     * {@link #HEADROOM}: the agent leaves them to the application.
     */
    private static long spare() throws IOException {
        long limit = -1;
        try (FileInputStream in = new FileInputStream("/proc/self/limits")) {
            String limits = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            int i = limits.indexOf("Max open files");
            if (i >= 0) {
                String soft = limits.substring(i + 14, limits.indexOf('\n', i)).trim();
                soft = soft.substring(0, soft.indexOf(' ') < 0 ? soft.length() : soft.indexOf(' '));
                limit = "unlimited".equals(soft) ? -1 : Long.parseLong(soft);
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: nothing to measure against
        }
        long left = limit < 0 ? Long.MAX_VALUE : limit - usedBelow(limit);
        if (left < HEADROOM) {
            throw new IOException("only " + left + " file descriptors are left (ulimit -n " + limit
                    + "): the agent leaves them to the application");
        }
        return left;
    }

    /** How many descriptors below {@code limit} (the numbers a new one can take) are in use, from /proc/self/fd. */
    private static long usedBelow(long limit) {
        String[] open = new java.io.File("/proc/self/fd").list(); // the listing's own descriptor among them
        if (open == null) {
            return 0;
        }
        long used = -1;
        for (String fd : open) {
            try {
                if (Long.parseLong(fd) < limit) {
                    used++;
                }
            } catch (NumberFormatException e) {
                // not a descriptor
            }
        }
        return Math.max(0, used);
    }

    /**
     * Whether the process had descriptors to spare at the first open (at least {@link #ROOMY}): only then may a user
     * keep the directory open beyond its batch of work (the class cache through the start-up).
     */
    public static boolean roomy() {
        return roomy;
    }

    /**
     * The directory {@code real} (a canonical path), reached from {@code /} one component at a time by descriptor,
     * each component checked to be trusted; the descriptor of {@code real} itself, trusted too.
     */
    static SecureDirectoryStream<Path> walk(Path real, long uid) throws IOException {
        Object key = look(ROOT, uid, TRUSTED);
        DirectoryStream<Path> s = Files.newDirectoryStream(ROOT);
        if (!(s instanceof SecureDirectoryStream)) {
            s.close();
            throw new IOException("this platform has no SecureDirectoryStream");
        }
        SecureDirectoryStream<Path> d = (SecureDirectoryStream<Path>) s;
        try {
            bind(d, ROOT, key);
            Path at = ROOT;
            for (Path name : real) {
                SecureDirectoryStream<Path> next = next(d, at, name, uid, TRUSTED);
                SecureDirectoryStream<Path> done = d;
                d = next;
                done.close();
                at = at.resolve(name);
            }
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** Private child {@code name} of {@code parent} (at {@code parentPath}); made first when {@code create} and missing. */
    private static SecureDirectoryStream<Path> child(SecureDirectoryStream<Path> parent, Path parentPath, String name,
                                                     long uid, boolean create) throws IOException {
        try {
            return next(parent, parentPath, Path.of(name), uid, PRIVATE);
        } catch (NoSuchFileException e) {
            if (!create) {
                throw e;
            }
            makeDirectory(parentPath.resolve(name));
            return next(parent, parentPath, Path.of(name), uid, PRIVATE);
        }
    }

    /**
     * Makes directory {@code path} with mode 0700; whether this call made it. By path, as the SecureDirectoryStream
     * has no mkdirat: the directories above are trusted (only root or this uid can change what the path names), and
     * what was made is then opened and checked by descriptor like any other.
     */
    private static boolean makeDirectory(Path path) throws IOException {
        try {
            Files.createDirectory(path, privateMode());
            return true;
        } catch (FileAlreadyExistsException x) {
            return false; // made by another JVM meanwhile
        }
    }

    /** What {@link #check} asks of a directory: see there. */
    private static final int TRUSTED = 0;
    private static final int OWNED = 1;
    private static final int PRIVATE = 2;

    /**
     * Directory {@code name} of {@code parent} (at {@code parentPath}): looked at first without following a link (a
     * link, a FIFO or anything but a directory is refused before it is opened; its owner and mode as {@code level}
     * asks), then opened relative to {@code parent} with O_NOFOLLOW and bound to what was looked at by the fstat of
     * its own descriptor.
     */
    private static SecureDirectoryStream<Path> next(SecureDirectoryStream<Path> parent, Path parentPath, Path name,
                                                    long uid, int level) throws IOException {
        Path path = parentPath.resolve(name);
        Object key = look(path, uid, level);
        SecureDirectoryStream<Path> d = parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        try {
            bind(d, path, key);
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * Looks at directory {@code path} (lstat: the JDK gives the uid and the sticky bit only by path; the caller's
     * parent is trusted, so only root or {@code uid} can change what the path names) and checks it as {@code level}
     * asks: {@link #PRIVATE}, a directory of {@code uid} with no access for group and others; {@link #OWNED}, a
     * directory of {@code uid}; {@link #TRUSTED}, a directory owned by root or {@code uid}, writable by group or
     * others only with the sticky bit (OpenSSH's StrictModes, with /tmp allowed). Returns its identity (dev, inode).
     */
    private static Object look(Path path, long uid, int level) throws IOException {
        Map<String, Object> u = Files.readAttributes(path, "unix:uid,mode,fileKey", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) u.get("mode");
        long owner = ((Integer) u.get("uid")) & 0xFFFFFFFFL;
        if ((mode & 0170000) != 0040000) {
            throw new IOException(path + " is not a directory" + ((mode & 0170000) == 0120000 ? " but a symbolic link" : ""));
        }
        if (level == OWNED) {
            if (owner != uid) {
                throw new IOException(path + " belongs to uid " + owner + ", not " + uid);
            }
        } else if (level == PRIVATE) {
            if (owner != uid || (mode & 077) != 0) {
                throw new IOException(path + " is not a directory of uid " + uid + " with mode 0700 (uid " + owner
                        + ", mode " + Integer.toOctalString(mode & 07777) + ")");
            }
        } else if (owner != 0 && owner != uid) {
            throw new IOException(path + " belongs to uid " + owner + ": another user could swap what is below it"
                    + " (each directory above the cache must belong to root or uid " + uid + ")");
        } else if ((mode & 022) != 0 && (mode & 01000) == 0) {
            throw new IOException(path + " is writable by " + ((mode & 02) != 0 ? "others" : "its group")
                    + " without the sticky bit (mode " + Integer.toOctalString(mode & 07777)
                    + "): another user could swap what is below it");
        }
        return u.get("fileKey");
    }

    /** Makes sure the directory opened as {@code d} is the inode {@code key} looked at (fstat of its descriptor). */
    private static void bind(SecureDirectoryStream<Path> d, Path path, Object key) throws IOException {
        PosixFileAttributes f = d.getFileAttributeView(PosixFileAttributeView.class).readAttributes();
        if (!f.isDirectory() || !f.fileKey().equals(key)) {
            throw new IOException(path + " changed while it was checked");
        }
    }

    /** fstatat(parent, name, AT_SYMLINK_NOFOLLOW). */
    private static PosixFileAttributes stat(SecureDirectoryStream<Path> parent, Path name) throws IOException {
        return parent.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
    }

    /**
     * When the first open made a new build directory: the directories other agent builds left in {@code base}
     * (this uid's only; never following a link) are removed with their files, so that the cache does not grow by one
     * directory per agent build. A JVM of another build still running keeps what it has loaded (and its open
     * descriptors); it only loses its cache. What cannot be removed is left as it is.
     */
    private static void removeOtherBuilds(SecureDirectoryStream<Path> base, Path basePath, String build, long uid) {
        for (Path entry : base) {
            Path name = entry.getFileName();
            if (name == null || name.toString().equals(build)) {
                continue;
            }
            try {
                SecureDirectoryStream<Path> old = next(base, basePath, name, uid, OWNED);
                try {
                    for (Path file : old) {
                        Path n = file.getFileName();
                        if (!stat(old, n).isDirectory()) {
                            old.deleteFile(n); // unlinkat: a link is removed, never followed
                        }
                    }
                } finally {
                    old.close();
                }
                base.deleteDirectory(name);
            } catch (IOException | RuntimeException e) {
                // not a build directory of ours (a file, a link, another owner), or in use in a way that stops
                // its removal: left alone
            }
        }
    }

    /**
     * The content of file {@code name} of this directory, or null when there is none. Refused (IOException saying
     * why) unless it is a regular file (not a link) of this uid that group and others cannot write, of at most
     * {@code max} bytes; it is looked at and opened relative to the checked descriptor, with O_NOFOLLOW.
     */
    public byte[] read(String name, long max) throws IOException {
        return read(name, max, null);
    }

    /** {@link #read}, also giving the file's inode number in {@code inode[0]}. */
    public byte[] read(String name, long max, long[] inode) throws IOException {
        Path entry = Path.of(name);
        PosixFileAttributes a;
        try {
            a = stat(dir, entry);
        } catch (NoSuchFileException e) {
            return null;
        }
        Map<String, Object> u = ownFile(entry, a, max, inode == null ? "unix:uid,fileKey" : "unix:uid,ino,fileKey");
        if (inode != null) {
            inode[0] = (Long) u.get("ino");
        }
        try (SeekableByteChannel in = dir.newByteChannel(entry, READ)) {
            long size = in.size(); // fstat of the opened file
            if (size != a.size()) {
                throw new IOException(path.resolve(entry) + " changed while it was read");
            }
            byte[] content = new byte[(int) size];
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.position() < content.length) {
                b.limit(Math.min(content.length, b.position() + CHUNK));
                if (in.read(b) < 0) {
                    throw new IOException(path.resolve(entry) + " ended early");
                }
            }
            return content; // the size the opened file had: what a checksum then covers
        }
    }

    /** The inode number of file {@code name} of this directory, checked as for {@link #read}. */
    public long inode(String name) throws IOException {
        Path entry = Path.of(name);
        return (Long) ownFile(entry, stat(dir, entry), Long.MAX_VALUE, "unix:uid,ino,fileKey").get("ino");
    }

    /**
     * Refuses (IOException saying why) what is not a regular file of this uid that only its owner can write;
     * {@code attributes} (unix:uid,fileKey and any more) as its path gives them.
     */
    private Map<String, Object> ownFile(Path entry, PosixFileAttributes a, long max, String attributes) throws IOException {
        Path p = path.resolve(entry);
        if (!a.isRegularFile()) {
            throw new IOException(p + " is not a regular file" + (a.isSymbolicLink() ? " but a symbolic link" : ""));
        }
        if (a.size() > max) {
            throw new IOException(p + " is larger than " + max + " bytes");
        }
        Set<PosixFilePermission> perms = a.permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(p + " is writable by group or others");
        }
        // its owner by path (the descriptor's attributes have no uid the JDK would give without a user-name look-up),
        // once the path is known to name the same inode
        Map<String, Object> u = Files.readAttributes(p, attributes, LinkOption.NOFOLLOW_LINKS);
        if (!a.fileKey().equals(u.get("fileKey"))) {
            throw new IOException(p + " changed while it was checked");
        }
        long owner = ((Integer) u.get("uid")) & 0xFFFFFFFFL;
        if (owner != uid) {
            throw new IOException(p + " belongs to uid " + owner + ", not " + uid);
        }
        return u;
    }

    /**
     * Writes {@code parts} as file {@code name} of this directory (mode 0600): to a new temporary name first
     * (O_CREAT|O_EXCL|O_NOFOLLOW), then renamed over {@code name}, both relative to the checked descriptor, so that a
     * reader never sees half a file; false when that failed (nothing half written is left).
     */
    public boolean write(String name, byte[]... parts) {
        Path tmp = Path.of(name.concat(temporarySuffix()));
        try {
            try (SeekableByteChannel out = dir.newByteChannel(tmp, CREATE, ownerOnly())) {
                for (byte[] part : parts) {
                    ByteBuffer b = ByteBuffer.wrap(part);
                    while (b.position() < part.length) {
                        b.limit(Math.min(part.length, b.position() + CHUNK));
                        out.write(b);
                    }
                }
            }
            dir.move(tmp, dir, Path.of(name));
            return true;
        } catch (IOException | RuntimeException e) {
            delete(tmp.toString());
            return false;
        }
    }

    /** Removes file {@code name} of this directory, if any (unlinkat: a link is removed, not followed). */
    public void delete(String name) {
        try {
            dir.deleteFile(Path.of(name));
        } catch (IOException | RuntimeException e) {
            // not there
        }
    }

    /** For a directory made by {@link #fresh}: removes its files and itself, and closes it. */
    public void remove() {
        try {
            for (Path file : dir) {
                delete(file.getFileName().toString());
            }
        } catch (RuntimeException e) {
            // removed below if it is empty; left otherwise
        }
        try {
            dir.close();
            if (parent != null) {
                parent.deleteDirectory(path.getFileName());
            }
        } catch (IOException | RuntimeException e) {
            // left
        }
        closeNow();
    }

    /** Closes this directory, unless it is the shared one (see {@link #release}). */
    @Override
    public void close() {
        synchronized (PrivateDir.class) {
            if (this == shared) {
                return;
            }
        }
        closeNow();
    }

    private void closeNow() {
        try {
            dir.close();
        } catch (IOException e) {
            // nothing to do
        }
        if (parent != null) {
            try {
                parent.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> privateMode() {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    }

    private static FileAttribute<Set<PosixFilePermission>> ownerOnly() {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * A suffix for a temporary file name in the directory that no other writer uses at the same time: this process's
     * pid (from /proc/self, not ProcessHandle, whose class initialiser starts a thread pool) and the thread's id.
     */
    public static String temporarySuffix() {
        String pid;
        try {
            pid = Path.of("/proc/self").toRealPath().getFileName().toString();
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
