package mptcp.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The JDKs the child JVMs run on. Both must exist; a missing one fails the tests instead of skipping them. */
public enum Jdk {
    JDK17("jdk17.home", 17),
    JDK25("jdk25.home", 25);

    private final String property;
    public final int feature;

    Jdk(String property, int feature) {
        this.property = property;
        this.feature = feature;
    }

    public Path home() {
        String home = System.getProperty(property);
        if (home == null || !Files.isExecutable(Paths.get(home, "bin", "java"))) {
            throw new IllegalStateException("JDK " + feature + " not found: system property " + property + "=" + home);
        }
        // the JDK's own release file names its version: a "JDK 17" that is another JDK fails here
        String release;
        try {
            release = Files.readString(Paths.get(home, "release"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("JDK " + feature + " at " + home + " has no readable release file: " + e);
        }
        if (!release.contains("JAVA_VERSION=\"" + feature + ".") && !release.contains("JAVA_VERSION=\"" + feature + "\"")) {
            throw new IllegalStateException(property + "=" + home + " is not JDK " + feature + ":\n" + release);
        }
        return Paths.get(home);
    }

    public String java() {
        return home().resolve("bin/java").toString();
    }

    public String tool(String name) {
        return home().resolve("bin/" + name).toString();
    }
}
