package mptcp.sys;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * jffi's native stub, as a file for jffi to load (see {@link #extract}): kept in the agent's private directory
 * between runs when there is one ({@link PrivateDir}, cache=on), else written to a new private directory for the
 * moment jffi loads it.
 *
 * <p>What is loaded is the file checked: it is looked at, read and CRC-checked through the checked descriptor of its
 * directory, and loaded by its canonical path, every component of which the walk of {@link PrivateDir} found trusted
 * (only root or this uid can change what that path names). jffi loads through {@code System.load}, which
 * canonicalises its argument before {@code dlopen} ({@code /proc/self/fd/N} of a linked file becomes the file's path
 * again), so a descriptor cannot be handed to it; after the load, {@link #checkMapped} makes sure the library mapped
 * from that path is the inode that was checked (docs/security.md).
 */
final class StubFile {
    /** jffi's stub library, as named inside its native jar (jffi 1.3: stub version 1.2). */
    private static final String STUB = "libjffi-1.2.so";
    /** Next to a kept stub: the CRC-32 of its content as 8 hex digits, written after it. */
    private static final String SUM = STUB + ".crc32";
    /** A larger file is no stub of ours. */
    private static final long MAX = 16 << 20;

    /** The stub last offered to jffi, and the inode it had when checked; null: none offered. */
    private static Path offered;
    private static long offeredInode;
    /** The directory of a stub written for one load, removed by {@link #loaded}; null when the kept one is used. */
    private static PrivateDir once;
    /** Why no stub could be offered although this platform has one: jffi must then not load any (see Init). */
    private static String refusal;

    private StubFile() {
    }

    /**
     * jffi's stub library for this platform as a file, for jffi to load (through com.kenai.jffi.AgentBinding, set
     * only while jffi initialises). jffi's own extraction names its temporary file with {@link File#createTempFile},
     * whose SecureRandom initialises the JDK's security providers: 25-40 ms at the first socket of a JVM that would
     * otherwise never need them; and it writes and loads it by path in {@code java.io.tmpdir}.
     *
     * <p>With the agent's private directory ({@link PrivateDir#open}), the stub kept there by an earlier run is used
     * when it checks out: a regular file (not a link) of this uid that nobody else can write, whose content has the
     * CRC-32 recorded next to it when it was written; otherwise it is written there again (temporary name, then
     * renamed: a reader never sees half a file). Without one, it is written into a new directory of mode 0700 (a fresh
     * name: creation fails rather than reuse an existing one) in {@code jffi.extract.dir} when set, else
     * {@code java.io.tmpdir}, each trusted like the directories above the private one, and removed as soon as jffi
     * has loaded it ({@link #loaded}). When that is not possible either, null and {@link #refusal} says why.
     *
     * <p>Files are read and written through the JDK's SecureDirectoryStream and file channels, not Files.copy, which
     * would load NIO's socket channel classes on this thread while the agent installs (the engine would then have to
     * retransform a socket class it otherwise rewrites as it loads). Returns null, leaving jffi to its own ways, when
     * the user set {@code jffi.boot.library.path} or on a platform the jar has no stub for.
     */
    static File extract() {
        refusal = null;
        if (System.getProperty(Jffi.BOOT_PATH) != null || !"Linux".equals(System.getProperty("os.name"))) {
            return null;
        }
        String resource = resource();
        ClassLoader loader = StubFile.class.getClassLoader();
        if (resource == null || loader == null) {
            return null;
        }
        // a user who set jffi.extract.dir chose where the stub goes: then no kept stub
        if (System.getProperty("jffi.extract.dir") == null) {
            try (PrivateDir kept = PrivateDir.open()) {
                File stub = kept == null ? null : kept(kept, loader, resource);
                if (stub != null) {
                    return stub;
                }
            }
        }
        return once(loader, resource);
    }

    /** Why {@link #extract} offered no stub on a platform that has one (jffi must then load none); else null. */
    static String refusal() {
        return refusal;
    }

    /** The stub of this platform among the jar's resources, or null on a platform without one here. */
    private static String resource() {
        String arch = System.getProperty("os.arch", "");
        String platform = "amd64".equals(arch) || "x86_64".equals(arch) ? "x86_64-Linux"
                : "aarch64".equals(arch) ? "aarch64-Linux" : null;
        return platform == null ? null : "jni/".concat(platform).concat("/").concat(STUB);
    }

    /** The stub kept in {@code dir}, checked, or written there now; null when neither works. */
    private static File kept(PrivateDir dir, ClassLoader loader, String resource) {
        try {
            byte[] sum = dir.read(SUM, 8);
            long[] inode = new long[1];
            byte[] content = sum == null ? null : dir.read(STUB, MAX, inode);
            if (content != null && hex(crc(content)).equals(new String(sum, StandardCharsets.US_ASCII))) {
                return offer(dir, inode[0]);
            }
        } catch (IOException | RuntimeException e) {
            // not used: written again below
        }
        try {
            byte[] content = content(loader, resource);
            // the stub first: a reader that finds the new sum also finds the content it describes
            if (content != null && dir.write(STUB, content)
                    && dir.write(SUM, hex(crc(content)).getBytes(StandardCharsets.US_ASCII))) {
                return offer(dir, dir.inode(STUB));
            }
        } catch (IOException | RuntimeException e) {
            // the one-load copy instead
        }
        return null;
    }

    /** A stub written for one load into a new directory of mode 0700, removed by {@link #loaded}; null on failure. */
    private static File once(ClassLoader loader, String resource) {
        String parent = System.getProperty("jffi.extract.dir", System.getProperty("java.io.tmpdir", "/tmp"));
        PrivateDir dir = null;
        try {
            byte[] content = content(loader, resource);
            if (content == null) {
                return null;
            }
            dir = PrivateDir.fresh(Path.of(parent), "mptcp-agent-jffi-", PrivateDir.effectiveUid());
            if (!dir.write(STUB, content)) {
                throw new IOException("could not write " + dir.path.resolve(STUB));
            }
            File stub = offer(dir, dir.inode(STUB));
            once = dir;
            return stub;
        } catch (IOException | RuntimeException e) {
            if (dir != null) {
                dir.remove();
            }
            refusal = "no directory to load jffi's native stub from (" + e.getMessage() + ")";
            return null;
        }
    }

    private static byte[] content(ClassLoader loader, String resource) throws IOException {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** The stub of {@code dir} as the file to load, remembering its checked inode for {@link #checkMapped}. */
    private static File offer(PrivateDir dir, long inode) {
        offeredInode = inode;
        offered = dir.path.resolve(STUB);
        return offered.toFile();
    }

    /** Whether {@code stub} (from {@link #extract}) is the one kept in the private directory. */
    static boolean kept(File stub) {
        return once == null;
    }

    /**
     * For com.kenai.jffi.Init, when loading the kept stub failed (a directory on a noexec mount, say): a stub
     * written for this one load, as {@link #extract} writes it without a private directory; its directory, or null.
     */
    static final java.util.function.Supplier<String> FALLBACK = new java.util.function.Supplier<String>() {
        @Override
        public String get() {
            String resource = resource(); // only offered after extract() had one
            File stub = resource == null ? null : once(StubFile.class.getClassLoader(), resource);
            return stub == null ? null : stub.getParent();
        }
    };

    /**
     * After jffi loaded the stub offered last: throws UnsatisfiedLinkError unless this process maps a file named
     * like the stub with the inode that was checked (/proc/self/maps), i.e. the file checked is the file loaded. The
     * device is not compared: on overlayfs (containers) the mapping shows the underlying file's device, stat the
     * overlay's.
     */
    static void checkMapped() {
        Path stub = offered;
        if (stub == null) {
            return;
        }
        String maps;
        try (FileInputStream in = new FileInputStream("/proc/self/maps")) {
            maps = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return; // no /proc to compare with
        }
        if (!mapped(maps, offeredInode)) {
            throw new UnsatisfiedLinkError("jffi's native stub mapped in this process is not the file " + stub
                + " the agent checked (inode " + offeredInode + ")");
        }
    }

    /** Whether /proc/self/maps text {@code maps} has a mapping of a file named like the stub with inode {@code inode}. */
    static boolean mapped(String maps, long inode) {
        String name = "/".concat(STUB);
        for (int at = maps.indexOf(name); at >= 0; at = maps.indexOf(name, at + 1)) {
            int end = at + name.length();
            if (end == maps.length() || maps.charAt(end) == '\n' || maps.startsWith(" (deleted)", end)) {
                if (inode(maps.substring(maps.lastIndexOf('\n', at) + 1, end)) == inode) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The inode field of a /proc/self/maps line ("address perms offset dev inode path"), or -1. */
    private static long inode(String line) {
        int at = 0;
        for (int field = 0; field < 4; field++) {
            at = line.indexOf(' ', at);
            if (at < 0) {
                return -1;
            }
            while (at < line.length() && line.charAt(at) == ' ') {
                at++;
            }
        }
        int end = line.indexOf(' ', at);
        try {
            return Long.parseLong(end < 0 ? line.substring(at) : line.substring(at, end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long crc(byte[] b) {
        CRC32 crc = new CRC32();
        crc.update(b, 0, b.length);
        return crc.getValue();
    }

    private static String hex(long crc) {
        String h = Long.toHexString(crc);
        return "00000000".substring(h.length()).concat(h);
    }

    /** Called once jffi has loaded its stub (or failed to): a stub written for this one load is removed. */
    static void loaded() {
        PrivateDir dir = once;
        once = null;
        offered = null;
        if (dir != null) {
            dir.remove();
        }
    }
}
