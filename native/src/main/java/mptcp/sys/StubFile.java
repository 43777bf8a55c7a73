package mptcp.sys;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.zip.CRC32;

/**
 * jffi's native stub, as a file for jffi to load (see {@link #extract}): kept in the agent's private directory
 * between runs when there is one ({@link PrivateDir}, cache=on), else written to a new private directory for the
 * moment jffi loads it.
 */
final class StubFile {
    /** jffi's stub library, as named inside its native jar (jffi 1.3: stub version 1.2). */
    private static final String STUB = "libjffi-1.2.so";
    /** Next to a kept stub: the CRC-32 of its content as 8 hex digits, written after it. */
    private static final String SUM = STUB + ".crc32";

    private StubFile() {
    }

    /**
     * jffi's stub library for this platform as a file, for jffi to load from its directory (through
     * com.kenai.jffi.AgentBinding, set only while jffi initialises). jffi's own extraction names its temporary file
     * with {@link File#createTempFile}, whose SecureRandom initialises the JDK's security providers: 25-40 ms at the
     * first socket of a JVM that would otherwise never need them.
     *
     * <p>With the agent's private directory ({@link PrivateDir#get}), the stub kept there by an earlier run is used
     * when it checks out: a regular file (not a link) of this uid that nobody else can write, whose content has the
     * CRC-32 recorded next to it when it was written; otherwise it is written there again (temporary name, then
     * renamed: a reader never sees half a file). Without one, it is written into a new directory of mode 0700 (a fresh
     * name: creation fails rather than reuse an existing one) in {@code jffi.extract.dir} when set, else
     * {@code java.io.tmpdir}, deleted as soon as jffi has loaded it ({@link #loaded}).
     *
     * <p>Files are written through plain streams: Files.copy would load NIO's channel classes (SocketChannelImpl
     * among them) on this thread while the agent installs, so that the engine had to retransform a socket class it
     * would otherwise rewrite as it loads. Returns null, leaving jffi to its own ways, when the user set
     * {@code jffi.boot.library.path}, on other platforms, or on any error.
     */
    static File extract() {
        if (System.getProperty(Jffi.BOOT_PATH) != null || !"Linux".equals(System.getProperty("os.name"))) {
            return null;
        }
        String resource = resource();
        ClassLoader loader = StubFile.class.getClassLoader();
        if (resource == null || loader == null) {
            return null;
        }
        try {
            // a user who set jffi.extract.dir chose where the stub goes: then no kept stub
            File kept = System.getProperty("jffi.extract.dir") == null ? PrivateDir.get() : null;
            if (kept != null) {
                File stub = new File(kept, STUB);
                if (checksOut(stub, new File(kept, SUM))) {
                    return stub;
                }
                if (keep(loader, resource, kept, stub)) {
                    return stub;
                }
            }
            return extractOnce(loader, resource);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The stub of this platform among the jar's resources, or null on a platform without one here. */
    private static String resource() {
        String arch = System.getProperty("os.arch", "");
        String platform = "amd64".equals(arch) || "x86_64".equals(arch) ? "x86_64-Linux"
                : "aarch64".equals(arch) ? "aarch64-Linux" : null;
        return platform == null ? null : "jni/".concat(platform).concat("/").concat(STUB);
    }

    /** A stub written for one load: into a new directory of mode 0700, deleted by {@link #loaded}; null on failure. */
    private static File extractOnce(ClassLoader loader, String resource) throws IOException {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            String parent = System.getProperty("jffi.extract.dir", System.getProperty("java.io.tmpdir"));
            for (int attempt = 0; ; attempt++) {
                File dir = new File(parent, "mptcp-agent-jffi-".concat(Long.toHexString(System.nanoTime())));
                try {
                    Files.createDirectory(dir.toPath(),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException e) {
                    if (attempt < 3) {
                        continue;
                    }
                    return null;
                }
                File stub = new File(dir, STUB);
                try (FileOutputStream out = new FileOutputStream(stub)) {
                    in.transferTo(out);
                } catch (IOException | RuntimeException e) {
                    stub.delete();
                    dir.delete();
                    return null;
                }
                once = stub;
                return stub;
            }
        }
    }

    /** The stub written for one load, to delete once loaded; null when the kept one was used. */
    private static File once;

    /** Whether {@code stub} (from {@link #extract}) is the one kept in the private directory. */
    static boolean kept(File stub) {
        return stub != once;
    }

    /**
     * For com.kenai.jffi.Init, when loading the kept stub failed (a directory on a noexec mount, say): a stub
     * written for this one load, as {@link #extract} writes it without a private directory; its directory, or null.
     */
    static final java.util.function.Supplier<String> FALLBACK = new java.util.function.Supplier<String>() {
        @Override
        public String get() {
            try {
                File stub = extractOnce(StubFile.class.getClassLoader(), resource()); // only offered after extract() had one
                return stub == null ? null : stub.getParent();
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    };

    /** Whether {@code stub} in the private directory is a file of ours whose content has the CRC-32 in {@code sum}. */
    private static boolean checksOut(File stub, File sum) throws IOException {
        long uid = PrivateDir.uid();
        long size = stub.length();
        if (size <= 0 || size > 16 << 20 || !PrivateDir.ownFile(stub, uid) || !PrivateDir.ownFile(sum, uid)) {
            return false;
        }
        byte[] recorded;
        byte[] content;
        try (FileInputStream in = new FileInputStream(sum)) {
            recorded = in.readNBytes(9);
        }
        content = new byte[(int) size];
        try (FileInputStream in = new FileInputStream(stub)) {
            // read into an array of the size it has, then make sure that was all
            if (in.readNBytes(content, 0, content.length) != content.length || in.read() >= 0) {
                return false;
            }
        }
        return recorded.length == 8 && hex(crc(content, content.length)).equals(
                new String(recorded, java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** Writes the stub and its CRC-32 into the private directory; false when that failed (nothing half written left). */
    private static boolean keep(ClassLoader loader, String resource, File dir, File stub) throws IOException {
        byte[] content;
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return false;
            }
            content = in.readAllBytes();
        }
        String unique = PrivateDir.temporarySuffix();
        File stubTmp = new File(dir, STUB + unique);
        File sumTmp = new File(dir, SUM + unique);
        try {
            try (FileOutputStream out = new FileOutputStream(stubTmp)) {
                out.write(content);
            }
            try (FileOutputStream out = new FileOutputStream(sumTmp)) {
                out.write(hex(crc(content, content.length)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            // the stub first: a reader that finds the new sum also finds the content it describes
            if (stubTmp.renameTo(stub) && sumTmp.renameTo(new File(dir, SUM))) {
                return true;
            }
        } catch (IOException | RuntimeException e) {
            // below: nothing half written left
        }
        stubTmp.delete();
        sumTmp.delete();
        return false;
    }

    private static long crc(byte[] b, int length) {
        CRC32 crc = new CRC32();
        crc.update(b, 0, length);
        return crc.getValue();
    }

    private static String hex(long crc) {
        String h = Long.toHexString(crc);
        return "00000000".substring(h.length()).concat(h);
    }

    /** Called once jffi has loaded its stub (or failed to): a stub written for this one load is deleted. */
    static void loaded() {
        File stub = once;
        once = null;
        if (stub != null) {
            stub.delete();
            stub.getParentFile().delete();
        }
    }
}
