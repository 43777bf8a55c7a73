package mptcp.it.jdk;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code attach <pid>}: sockets made after the attach are MPTCP; with listeners=keep the ones before stay TCP and are
 * named; attaching again with the same options changes nothing and says so (run-time changes: RuntimeChangesIT,
 * listeners.RollbackIT).
 */
class AttachIT {

    @ParameterizedTest
    @EnumSource(Jdk.class)
    void attachConvertsSocketsCreatedAfterwards(Jdk jdk) throws Exception {
        try (ChildJvm app = ChildJvm.java(jdk, List.of(), "mptcp.it.apps.SocketApp", "--pre-listener", "socket", "channel", "async")) {
            String port = app.expect("PRELISTEN ").split(" ")[1];
            AgentCli attach = AgentCli.run(jdk, "attach", String.valueOf(app.pid()), "listeners=keep," + ChildJvm.LOOPBACK_MPTCP);
            assertEquals(0, attach.exit, attach.toString());
            assertTrue(attach.output.contains("active in JVM " + app.pid()), attach.toString());
            assertTrue(attach.output.matches("(?s).*listener 127\\.0\\.0\\.1:" + port + " \\(fd \\d+\\): kept TCP: listeners=keep.*"),
                    attach.toString());

            // the same options again: the agent there says nothing changes (other options would change it at run time)
            AgentCli again = AgentCli.run(jdk, "attach", String.valueOf(app.pid()), ChildJvm.LOOPBACK_MPTCP + ",listeners=keep");
            assertEquals(0, again.exit, again.toString());
            assertTrue(again.output.contains("mptcp-agent in JVM " + app.pid() + ": no change: the agent is already active"
                    + " with these options") && again.output.contains("set by attach, uid "), again.toString());

            app.send("go");
            app.expect("READY");
            List<Ss.Entry> s = Ss.sockets(app.pid());
            assertTrue(app.stdoutLines().containsAll(List.of("OK socket", "OK channel", "OK async")), app.output());
            assertEquals(1, Ss.count(s, "tcp", "LISTEN"), "the listener from before the attach stays TCP: " + s);
            assertTrue(s.stream().anyMatch(e -> e.protocol.equals("tcp") && e.localPort() == Integer.parseInt(port)), s.toString());
            assertEquals(3, Ss.count(s, "mptcp", "LISTEN"), s.toString());
            assertEquals(6, Ss.count(s, "mptcp", "ESTAB"), s.toString());
            assertEquals(0, Ss.count(s, "tcp", "ESTAB"), s.toString());
        }
    }

    @Test
    void attachWithoutOptionsToJvmStartedWithAgentChangesNothing() throws Exception {
        try (ChildJvm app = ChildJvm.java(Jdk.JDK17, List.of(ChildJvm.loopbackAgentArg("")), "mptcp.it.apps.SocketApp", "socket")) {
            app.expect("READY");
            AgentCli attach = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(app.pid()));
            assertEquals(0, attach.exit, attach.toString());
            assertTrue(attach.output.contains("no change: the agent is already active with these options (enabled=true,")
                    && attach.output.contains("set by -javaagent"), attach.toString());
        }
    }

    @Test
    void badTargetsGiveOneClearMessage() throws Exception {
        AgentCli notNumber = AgentCli.run(Jdk.JDK17, "attach", "abc");
        assertEquals(2, notNumber.exit, notNumber.toString());
        assertTrue(notNumber.output.contains("invalid pid 'abc'"), notNumber.toString());

        int missing = 4_194_000;
        while (Files.exists(Paths.get("/proc/" + missing))) {
            missing++;
        }
        AgentCli gone = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(missing));
        assertEquals(2, gone.exit, gone.toString());
        assertTrue(gone.output.contains("no such process: " + missing), gone.toString());

        Process sleep = new ProcessBuilder("sleep", "60").start();
        Process foreign = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "60").start();
        try {
            AgentCli notJvm = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(sleep.pid()));
            assertEquals(2, notJvm.exit, notJvm.toString());
            assertTrue(notJvm.output.contains("is not a Java virtual machine"), notJvm.toString());

            awaitUid(foreign.pid(), 65534); // setpriv has switched user (and then execs sleep)
            // root may attach to any user's JVM: another user's process is judged like any other
            AgentCli otherUser = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(foreign.pid()));
            assertEquals(2, otherUser.exit, otherUser.toString());
            assertTrue(otherUser.output.contains("is not a Java virtual machine"), otherUser.toString());
            // a user other than root may not: told so before anything is tried (the jar copied where that user can read it)
            java.nio.file.Path dir = Files.createTempDirectory(Paths.get("/tmp"), "mpa-attach-");
            try {
                java.nio.file.Path jar = Files.copy(ChildJvm.AGENT, dir.resolve("mptcp-agent.jar"));
                Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                Proc asOther = Proc.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        Jdk.JDK17.java(), "-jar", jar.toString(), "attach", String.valueOf(sleep.pid())),
                        java.util.Map.of("XDG_CACHE_HOME", dir.toString()), 60);
                assertEquals(2, asOther.exit, asOther.toString());
                assertTrue(asOther.output.contains("process " + sleep.pid() + " belongs to uid 0, this command runs as uid"
                        + " 65534"), asOther.toString());
            } finally {
                try (java.util.stream.Stream<java.nio.file.Path> walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } finally {
            sleep.destroyForcibly();
            foreign.destroyForcibly();
        }

        // issue 21, 8d: pid 1 gets its true reason, not the path of the file that could not be read
        AgentCli init = AgentCli.run(Jdk.JDK17, "attach", "1");
        assertEquals(2, init.exit, init.toString());
        assertTrue(init.output.contains("process 1 (") && (init.output.contains("is not a Java virtual machine")
                || init.output.contains("cannot tell whether process 1 (")), init.toString());

        try (ChildJvm closed = ChildJvm.java(Jdk.JDK17, List.of("-XX:+DisableAttachMechanism"), "mptcp.it.apps.SocketApp", "socket")) {
            closed.expect("READY");
            AgentCli disabled = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(closed.pid()));
            assertEquals(2, disabled.exit, disabled.toString());
            assertTrue(disabled.output.contains("-XX:+DisableAttachMechanism"), disabled.toString());

            AgentCli badOption = AgentCli.run(Jdk.JDK17, "attach", String.valueOf(closed.pid()), "mode=both");
            assertEquals(2, badOption.exit, badOption.toString());
            assertTrue(badOption.output.contains("invalid value 'both' for option 'mode'"), badOption.toString());
        }
    }

    /** Waits until the kernel shows process {@code pid} running as {@code uid} (/proc/PID/status, real uid). */
    private static void awaitUid(long pid, int uid) throws Exception {
        java.nio.file.Path status = Paths.get("/proc/" + pid + "/status");
        long end = System.nanoTime() + 30_000_000_000L;
        String last = "";
        while (System.nanoTime() < end) {
            last = Files.readString(status);
            if (last.lines().anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals(String.valueOf(uid)))) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("process " + pid + " never ran as uid " + uid + ":\n" + last);
    }
}
