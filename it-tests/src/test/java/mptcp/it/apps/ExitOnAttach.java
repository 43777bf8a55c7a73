package mptcp.it.apps;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that exits as soon as someone starts attaching to it: it watches for HotSpot's trigger file
 * {@code /tmp/.attach_pid<pid>} (what an attaching tool creates before it sends SIGQUIT) and exits when it appears,
 * so that a test can have a JVM go away in the middle of an attach, every time.
 */
public final class ExitOnAttach {
    public static void main(String[] args) throws Exception {
        Path trigger = Path.of("/tmp/.attach_pid" + ProcessHandle.current().pid());
        System.out.println("READY");
        System.out.flush();
        while (!Files.exists(trigger)) {
            Thread.sleep(1);
        }
        Runtime.getRuntime().halt(0);
    }
}
