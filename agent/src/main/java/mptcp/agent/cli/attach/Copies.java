package mptcp.agent.cli.attach;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent jar copies this command put into containers ({@link InTarget#jar}), removed once no process of that
 * container holds one open: a JVM the agent was loaded into keeps its jar open for as long as it runs (its class
 * loaders read classes from it), and {@code status} or a reconfiguration load the same copy again, so a copy stays
 * exactly while a JVM of that container runs the agent from it.
 */
public final class Copies {
    /** Targets given a copy, by mount namespace and user (one copy directory each). */
    private final Map<String, Target> touched = new LinkedHashMap<>();

    /** Records that {@code t} was given a copy (its jar path in the target is {@code jarInTarget}). */
    public synchronized void add(Target t, String jarInTarget) {
        if (jarInTarget.startsWith("/tmp/.mptcp-agent.")) {
            touched.put(namespace(t.pid) + "/" + t.euid, t);
        }
    }

    /** Whether any copy was made. */
    public synchronized boolean any() {
        return !touched.isEmpty();
    }

    /**
     * Removes the copies no process holds open any more; a container whose processes are all gone took its /tmp
     * with it.
     * @return one line per copy removed
     */
    public synchronized List<String> removeUnused() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Target> e : touched.entrySet()) {
            String ns = e.getKey().substring(0, e.getKey().lastIndexOf('/'));
            Target t = e.getValue();
            List<Long> inNs = inNamespace(ns);
            if (inNs.isEmpty()) {
                continue;
            }
            Set<String> open = new HashSet<>();
            for (long pid : inNs) {
                openCopies(pid, open);
            }
            Target any;
            try {
                any = t.alive() ? t : Target.of(inNs.get(0));
            } catch (IOException gone) {
                continue;
            }
            try (InTarget files = InTarget.open(any)) {
                for (String removed : files.removeUnusedCopies(open, t.euid)) {
                    out.add("removed " + removed + " (no process of that container holds it open any more)");
                }
            } catch (IOException gone) {
                // the container went away meanwhile, with its /tmp
            }
        }
        return out;
    }

    /** "mnt:[4026531841]" of process {@code pid}, or "" when gone. */
    static String namespace(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "mnt")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    private static List<Long> inNamespace(String ns) {
        List<Long> out = new ArrayList<>();
        for (long pid : Target.pids()) {
            if (namespace(pid).equals(ns)) {
                out.add(pid);
            }
        }
        return out;
    }

    /** Adds the names ".mptcp-agent.UID/FILE" of the copies process {@code pid} holds open. */
    private static void openCopies(long pid, Set<String> into) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    int at = link.indexOf("/.mptcp-agent.");
                    if (at >= 0) {
                        into.add(link.substring(at + 1).replace(" (deleted)", ""));
                    }
                } catch (IOException ignored) {
                    // closed meanwhile
                }
            }
        } catch (IOException ignored) {
            // gone, or not ours to look into
        }
    }
}
