package mptcp.sys;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/** jffi's native stub, written to a private directory for the moment jffi loads it (see {@link #extract}). */
final class StubFile {
    /** jffi's stub library, as named inside its native jar (jffi 1.3: stub version 1.2). */
    private static final String STUB = "libjffi-1.2.so";
    private static final FileAttribute<?> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private StubFile() {
    }

    /**
     * Writes jffi's stub library for this platform into a new private directory, for jffi to load from there
     * (through com.kenai.jffi.AgentBinding, set only while jffi initialises). jffi's own extraction names its
     * temporary file with {@link File#createTempFile}, whose SecureRandom initialises the JDK's security
     * providers: 25-40 ms at the first socket of a JVM that would otherwise never need them. The directory is
     * made with mode 0700 under a fresh name (creation fails rather than reuse an existing one), in
     * {@code jffi.extract.dir} when set, else {@code java.io.tmpdir}; file and directory are deleted as soon
     * as jffi has loaded the library ({@link #loaded}). Written through a plain FileOutputStream: Files.copy would
     * load NIO's channel classes (SocketChannelImpl among them) on this thread while the agent installs, so that the
     * engine had to retransform a socket class it would otherwise rewrite as it loads. Returns null, leaving jffi to its own ways, when the user set
     * {@code jffi.boot.library.path}, on other platforms, or on any error.
     */
    static File extract() {
        if (System.getProperty(Jffi.BOOT_PATH) != null || !"Linux".equals(System.getProperty("os.name"))) {
            return null;
        }
        String arch = System.getProperty("os.arch", "");
        String platform = "amd64".equals(arch) || "x86_64".equals(arch) ? "x86_64-Linux"
                : "aarch64".equals(arch) ? "aarch64-Linux" : null;
        ClassLoader loader = StubFile.class.getClassLoader();
        if (platform == null || loader == null) {
            return null;
        }
        try (InputStream in = loader.getResourceAsStream("jni/".concat(platform).concat("/").concat(STUB))) {
            if (in == null) {
                return null;
            }
            String parent = System.getProperty("jffi.extract.dir", System.getProperty("java.io.tmpdir"));
            for (int attempt = 0; ; attempt++) {
                File dir = new File(parent, "mptcp-agent-jffi-".concat(Long.toHexString(System.nanoTime())));
                try {
                    Files.createDirectory(dir.toPath(), PRIVATE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt < 3) {
                        continue;
                    }
                    return null;
                }
                File stub = new File(dir, STUB);
                try (java.io.FileOutputStream out = new java.io.FileOutputStream(stub)) {
                    in.transferTo(out);
                } catch (IOException | RuntimeException e) {
                    stub.delete();
                    dir.delete();
                    return null;
                }
                return stub;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Called once jffi has loaded {@code stub} (or failed to): the file and its directory are no longer needed. */
    static void loaded(File stub) {
        stub.delete();
        stub.getParentFile().delete();
    }
}
