package mptcp.it;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The one place that decides what a missing prerequisite (root, a tool, a kernel feature) does to a test: with
 * CI=true it fails the test, otherwise it skips it, naming everything that is missing.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** "root" unless this JVM runs as uid 0, plus every tool of {@code tools} not found on PATH. */
    public static List<String> missing(List<String> tools) throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        if (!Proc.check(List.of("id", "-u")).trim().equals("0")) {
            out.add("root");
        }
        for (String tool : tools) {
            if (!onPath(tool)) {
                out.add(tool);
            }
        }
        return out;
    }

    /** Nothing missing: returns. Else fails the test (CI=true) or skips it, with {@code what} and the list. */
    public static void require(String what, List<String> missing) {
        if (missing.isEmpty()) {
            return;
        }
        String why = what + " prerequisites missing: " + String.join(", ", missing);
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(why + " (CI=true: a missing prerequisite fails the test)");
        }
        Assumptions.abort(why + " (with CI=true this fails)");
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(File.pathSeparator)) {
            if (new File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
