package mptcp.build;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.Deflater;

/**
 * Build step (not part of the agent jar): packs every {@code *.classdata} file under the agent's {@code inst/} folder
 * into one file, {@code inst/classes.blob}, and deletes them, so that the jar holds a few dozen entries instead of
 * ~1300. A JVM parses the whole central directory of an agent jar before premain, in interpreted Java: with ~1300
 * entries that was ~20 ms of CPU at every start (see docs/performance.md). mptcp.agent.boot.AgentLoader reads it.
 *
 * <p>Format (big-endian): magic {@code MPTCPCB1}; int count; int namesLength; count records of five ints (name offset
 * and length in the names area, data offset in the data area, compressed length, length); the names area (binary class
 * names, ASCII, sorted as {@link String#compareTo} sorts them, so that the loader can binary-search them without
 * building a map); the data area (each class deflated on its own, raw deflate). The blob is stored uncompressed in the
 * jar, so that the loader can skip to a class's offset.
 *
 * <p>Usage: {@code java mptcp.build.ClassBlob <inst-dir>}.
 */
public final class ClassBlob {
    private ClassBlob() {
    }

    public static void main(String[] args) throws IOException {
        Path inst = Paths.get(args[0]);
        TreeMap<String, Path> classes = new TreeMap<>();
        try (Stream<Path> files = Files.walk(inst)) {
            files.filter(p -> p.toString().endsWith(".classdata")).forEach(p -> {
                String rel = inst.relativize(p).toString();
                classes.put(rel.substring(0, rel.length() - ".classdata".length()).replace('/', '.'), p);
            });
        }
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<int[]> records = new ArrayList<>();
        byte[] buffer = new byte[1 << 20];
        for (var e : classes.entrySet()) {
            if (!StandardCharsets.US_ASCII.newEncoder().canEncode(e.getKey())) {
                throw new IOException("class name not ASCII (the loader compares names byte by byte): " + e.getKey());
            }
            byte[] name = e.getKey().getBytes(StandardCharsets.US_ASCII);
            byte[] raw = Files.readAllBytes(e.getValue());
            Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
            deflater.setInput(raw);
            deflater.finish();
            ByteArrayOutputStream packed = new ByteArrayOutputStream();
            while (!deflater.finished()) {
                packed.write(buffer, 0, deflater.deflate(buffer));
            }
            deflater.end();
            records.add(new int[] {names.size(), name.length, data.size(), packed.size(), raw.length});
            names.write(name);
            packed.writeTo(data);
        }
        try (DataOutputStream out = new DataOutputStream(new FileOutputStream(inst.resolve("classes.blob").toFile()))) {
            out.write("MPTCPCB1".getBytes(StandardCharsets.US_ASCII));
            out.writeInt(records.size());
            out.writeInt(names.size());
            for (int[] r : records) {
                for (int v : r) {
                    out.writeInt(v);
                }
            }
            names.writeTo(out);
            data.writeTo(out);
        }
        for (Path p : classes.values()) {
            Files.delete(p);
        }
        System.out.println("ClassBlob: " + records.size() + " classes, " + data.size() + " bytes packed");
    }
}
