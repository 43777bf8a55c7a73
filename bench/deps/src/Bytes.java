import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.Files;

/** The class file of sun.nio.ch.Net from the running JDK (what the agent's transformer receives). */
final class Bytes {
    private Bytes() {
    }

    static byte[] net() throws Exception {
        return Files.readAllBytes(FileSystems.getFileSystem(URI.create("jrt:/")).getPath("modules", "java.base", "sun/nio/ch/Net.class"));
    }

    /** Baseline: only reads the bytes. */
    public static void main(String[] args) throws Exception {
        System.out.println("none " + net().length + " bytes");
    }
}
