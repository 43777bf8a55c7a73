package mptcp.it.fleet;

import mptcp.it.*;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Fleet roll-out (issue 20): {@code attach --all} and {@code --watch} against the services of one "host", read from
 * the kernel with {@code ss} in each namespace. In a server namespace: a JDK 17 service as root, a JDK 25 service as
 * another uid, a "container" (its own pid and mount namespaces, a private /tmp, the agent jar's directory hidden, JDK
 * 17 as another uid), one excluded by a rule and one opted out ({@code MPTCP_AGENT_ENABLED=false}); in a client
 * namespace, over a veth, an MPTCP client JVM opens fresh HTTP connections to all of them throughout: none may fail.
 * Every command selects by a marker unique to the run ({@code --include}), never the other JVMs of this machine.
 */
class FleetIT {
    static final String SERVER = "10.233.0.1";
    static final String CLIENT = "10.233.0.2";
    static final int OTHER_UID = 65534;

    /** A world-readable directory with the classes the services run (the build tree may not be readable by others). */
    static Path serviceClasses() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "mpa-fleet-");
        Path to = Files.createDirectories(dir.resolve("mptcp/it/servers"));
        String testClasses = null;
        for (String e : ChildJvm.CLASSPATH.split(java.io.File.pathSeparator)) {
            if (e.endsWith("test-classes")) {
                testClasses = e;
            }
        }
        for (String c : List.of("FleetService.class")) {
            Files.copy(Path.of(testClasses, "mptcp/it/servers", c), to.resolve(c));
        }
        for (Path p : List.of(dir, dir.resolve("mptcp"), dir.resolve("mptcp/it"), to)) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(to.resolve("FleetService.class"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        return dir;
    }

    static void delete(Path dir) {
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // /tmp
        }
    }

    /** The server and client namespaces over a veth, the services, the client; all removed on close. */
    static final class Host implements AutoCloseable {
        final String run = "fleet.run=" + UUID.randomUUID().toString().substring(0, 8);
        final Netns server;
        final Netns client;
        final Path classes;
        final List<ChildJvm> children = new ArrayList<>();

        Host() throws Exception {
            server = new Netns();
            Netns c = null;
            try {
                c = new Netns();
                server.veth("vs", SERVER, c, "vc", CLIENT);
            } catch (Exception e) {
                server.close();
                if (c != null) {
                    c.close();
                }
                throw e;
            }
            client = c;
            classes = serviceClasses();
        }

        /**
         * A service in the server namespace. {@code uid}: run as that user (null: root); {@code container}: in its own
         * pid and mount namespaces, /tmp private and the agent jar's directory hidden.
         */
        ChildJvm service(Jdk jdk, Integer uid, boolean container, Map<String, String> env, int port, String... marks)
                throws Exception {
            List<String> java = new ArrayList<>(List.of(jdk.java(), "-D" + run));
            for (String m : marks) {
                java.add("-D" + m);
            }
            java.addAll(List.of("-cp", container ? "/mnt" : classes.toString(), "mptcp.it.servers.FleetService",
                    SERVER, String.valueOf(port)));
            List<String> user = uid == null ? List.of() : List.of("setpriv", "--reuid=" + uid, "--regid=" + uid,
                    "--clear-groups");
            List<String> cmd = new ArrayList<>();
            if (container) {
                cmd.addAll(List.of("unshare", "-p", "-m", "-f", "--mount-proc", "--propagation", "private", "sh", "-c",
                        // the jar's directory hidden before /tmp (a checkout under /tmp is gone once /tmp is new)
                        "mount --bind " + classes + " /mnt && mount -t tmpfs tmpfs " + ChildJvm.AGENT.getParent()
                                + " && mount -t tmpfs tmpfs /tmp && exec " + String.join(" ", user) + " "
                                + String.join(" ", java)));
            } else {
                cmd.addAll(user);
                cmd.addAll(java);
            }
            ChildJvm s = ChildJvm.command(server.wrap(cmd), env);
            children.add(s);
            s.expect("READY");
            return s;
        }

        /** The MPTCP client JVM (agent, mode=client) in the client namespace, asking each port throughout. */
        ChildJvm client(int... ports) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Jdk.JDK17.java(), ChildJvm.agentArg("mode=client"), "-cp",
                    ChildJvm.CLASSPATH, "mptcp.it.servers.FleetClient", "240", "20"));
            for (int p : ports) {
                cmd.add(SERVER + ":" + p);
            }
            ChildJvm c = ChildJvm.command(client.wrap(cmd), Map.of());
            children.add(c);
            c.expect("STARTED");
            return c;
        }

        /** {@code ss -Mltn} in the server namespace: is there an MPTCP listener on {@code port}? (else a TCP one) */
        boolean mptcpListener(int port) throws Exception {
            String ss = server.exec("ss", "-Mltn");
            boolean tcp = ss.lines().anyMatch(l -> l.startsWith("tcp ") && l.contains(":" + port + " "));
            assertTrue(tcp || ss.contains(":" + port + " "), "nothing listens on " + port + ":\n" + ss);
            return ss.lines().anyMatch(l -> l.startsWith("mptcp ") && l.contains(":" + port + " "));
        }

        @Override
        public void close() {
            children.forEach(ChildJvm::close);
            client.close();
            server.close();
            delete(classes);
        }
    }

    /** Waits for the client's per-target results and checks that not one request failed. */
    static void assertNoFailure(ChildJvm client, int minimumPerTarget) throws Exception {
        client.send("stop");
        client.expect("DONE");
        int results = 0;
        for (String l : client.stdoutLines()) {
            if (l.startsWith("RESULT ")) {
                results++;
                Matcher m = Pattern.compile("attempted=(\\d+) failed=(\\d+)").matcher(l);
                assertTrue(m.find(), l);
                assertEquals("0", m.group(2), "failed requests: " + l + "\n" + client.output());
                assertTrue(Integer.parseInt(m.group(1)) >= minimumPerTarget, l);
            }
        }
        assertTrue(results > 0, client.output());
    }

    static String lineOf(String output, long pid) {
        return output.lines().filter(l -> l.startsWith("JVM " + pid + " ")).findFirst().orElse("(no line for " + pid
                + ")\n" + output);
    }

    /** The pid of the JVM whose line names it "pid 1 in its namespace" (the container). */
    static long containerPid(String output) {
        Matcher m = Pattern.compile("JVM (\\d+) \\(pid 1 in its namespace\\)").matcher(output);
        assertTrue(m.find(), output);
        return Long.parseLong(m.group(1));
    }

    @Test
    void attachAllThenWatchPutsTheSelectedServicesOnMptcpWithoutAFailedRequest() throws Exception {
        Prerequisites.require("fleet test", Prerequisites.missing(List.of("ip", "ss", "unshare", "setpriv")));
        try (Host host = new Host()) {
            ChildJvm a = host.service(Jdk.JDK17, null, false, Map.of(), 8081);
            ChildJvm b = host.service(Jdk.JDK25, OTHER_UID, false, Map.of(), 8082);
            host.service(Jdk.JDK17, OTHER_UID, true, Map.of(), 8083);
            ChildJvm d = host.service(Jdk.JDK17, null, false, Map.of(), 8084, "fleet.exclude=1");
            ChildJvm e = host.service(Jdk.JDK25, null, false, Map.of("MPTCP_AGENT_ENABLED", "false"), 8085);
            ChildJvm client = host.client(8081, 8082, 8083, 8084, 8085);
            for (int port = 8081; port <= 8085; port++) {
                assertFalse(host.mptcpListener(port), "TCP before the attach: " + port);
            }

            AgentCli all = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include", host.run, "--exclude", "fleet\\.exclude");
            System.out.println("FleetIT: attach --all:\n" + all.output);
            assertEquals(0, all.exit, all.toString());
            assertTrue(lineOf(all.output, a.pid()).contains(" active"), all.toString());
            assertTrue(lineOf(all.output, b.pid()).contains("uid " + OTHER_UID), all.toString());
            long c = containerPid(all.output);
            assertTrue(lineOf(all.output, c).contains("uid " + OTHER_UID) && lineOf(all.output, c).contains(" active"),
                    all.toString());
            assertTrue(lineOf(all.output, d.pid()).contains("excluded: --exclude"), all.toString());
            assertTrue(lineOf(all.output, e.pid()).contains("skipped: opted out: MPTCP_AGENT_ENABLED=false"),
                    all.toString());
            assertTrue(all.output.contains("Result: 3 of 3 selected JVMs have the agent active"), all.toString());
            for (int port : new int[] {8081, 8082, 8083}) {
                assertTrue(host.mptcpListener(port), "MPTCP after attach --all: " + port);
            }
            assertFalse(host.mptcpListener(8084), "excluded: stays TCP");
            assertFalse(host.mptcpListener(8085), "opted out: stays TCP");

            // the container got a copy of the jar in its own /tmp, of its user, read-only; it cannot see the original
            Path copies = Path.of("/proc/" + c + "/root/tmp/.mptcp-agent." + OTHER_UID);
            List<Path> jars;
            try (java.util.stream.Stream<Path> s = Files.list(copies)) {
                jars = s.collect(java.util.stream.Collectors.toList());
            }
            assertEquals(1, jars.size(), jars.toString());
            assertEquals((Object) OTHER_UID, Files.getAttribute(jars.get(0), "unix:uid"));
            assertEquals("r--------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(jars.get(0))));
            assertFalse(Files.exists(Path.of("/proc/" + c + "/root" + ChildJvm.AGENT)), "the container sees no agent jar");

            // --watch, exactly as the Kubernetes DaemonSet runs it (its ConfigMap's files here; the CLI on JDK 25 this
            // time): a service started afterwards is MPTCP soon after it is attachable
            Files.writeString(host.classes.resolve("include"), "# this run's services\n" + host.run + "\n");
            Files.writeString(host.classes.resolve("exclude"), "fleet\\.exclude\n");
            Files.writeString(host.classes.resolve("options"), "# none\n");
            List<String> command = new ArrayList<>();
            for (String arg : Manifests.daemonSetCommand()) {
                command.add(arg.equals("java") ? Jdk.JDK25.java() : arg.equals(DeployManifestsIT.JAR)
                        ? ChildJvm.AGENT.toString() : arg.replace("/etc/mptcp-agent", host.classes.toString()));
            }
            ChildJvm watch = ChildJvm.command(command, Map.of());
            host.children.add(watch);
            watch.expect("Watching");
            ChildJvm f = host.service(Jdk.JDK17, null, false, Map.of(), 8086);
            long ready = System.nanoTime();
            client.send("add " + SERVER + ":8086"); // its clients come at once, as to any service
            client.expect("ADDED");
            while (!host.mptcpListener(8086)) {
                assertTrue(System.nanoTime() - ready < 30_000_000_000L, "no MPTCP listener on 8086 within 30 s\n"
                        + watch.output());
                Thread.sleep(50);
            }
            System.out.printf("FleetIT: --watch converted a new service's listener %d ms after it was ready%n",
                    (System.nanoTime() - ready) / 1_000_000);
            watch.await(l -> l.startsWith("JVM " + f.pid() + " ") && l.contains(" active"), 10_000);
            new ProcessBuilder("kill", "-TERM", String.valueOf(watch.pid())).start().waitFor();
            assertEquals(0, watch.exit(30_000), watch.output());
            assertTrue(watch.stdoutLines().contains("Stopped watching"), watch.output());
            assertTrue(watch.output().lines().noneMatch(l -> l.startsWith("JVM " + a.pid() + " ") && !l.contains("already")),
                    "the JVMs that had the agent are left as they are:\n" + watch.output());

            Thread.sleep(1000); // connections to the watched service too
            assertNoFailure(client, 10);
        }
    }

    /**
     * A JVM that exits in the middle of {@code attach --all} and one that never answers (SIGSTOP) cost only their own
     * lines, which say why; the others get the agent; the exit code says not all did.
     */
    @Test
    void aJvmThatExitsOrNeverAnswersCostsOnlyItsOwnLine() throws Exception {
        Prerequisites.require("fleet test", Prerequisites.missing(List.of("ss")));
        String run = "fleet.run=" + UUID.randomUUID().toString().substring(0, 8);
        try (Netns ns = new Netns();
                ChildJvm ok = ChildJvm.command(ns.wrap(List.of(Jdk.JDK17.java(), "-D" + run, "-cp", ChildJvm.CLASSPATH,
                        "mptcp.it.servers.FleetService", "0.0.0.0", "8091")), Map.of());
                ChildJvm stopped = ChildJvm.command(ns.wrap(List.of(Jdk.JDK25.java(), "-D" + run, "-cp", ChildJvm.CLASSPATH,
                        "mptcp.it.servers.FleetService", "0.0.0.0", "8092")), Map.of());
                ChildJvm exiting = ChildJvm.command(ns.wrap(List.of(Jdk.JDK17.java(), "-D" + run, "-cp", ChildJvm.CLASSPATH,
                        "mptcp.it.apps.ExitOnAttach")), Map.of())) {
            ok.expect("READY");
            stopped.expect("READY");
            exiting.expect("READY");
            new ProcessBuilder("kill", "-STOP", String.valueOf(stopped.pid())).start().waitFor();
            try {
                long start = System.nanoTime();
                AgentCli all = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include", run);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals(1, all.exit, all.toString());
                assertTrue(lineOf(all.output, ok.pid()).contains(" active"), all.toString());
                assertTrue(lineOf(all.output, stopped.pid()).contains("did not start its attach listener after SIGQUIT"
                        + " within 10 s (stopped? state T in /proc/" + stopped.pid() + "/stat)"), all.toString());
                assertTrue(lineOf(all.output, exiting.pid()).contains("exited during the attach"), all.toString());
                assertTrue(all.output.contains("Result: 1 of 3 selected JVMs have the agent active"), all.toString());
                assertTrue(ns.exec("ss", "-Mltn").lines().anyMatch(l -> l.startsWith("mptcp ") && l.contains(":8091 ")));
                assertTrue(ms < 40_000, "the stopped JVM's deadline only: " + ms + " ms");

                // once its attach listener runs, a stopped JVM does not answer a request: status gives up and says so
                new ProcessBuilder("kill", "-CONT", String.valueOf(stopped.pid())).start().waitFor();
                AgentCli status = AgentCli.run(Jdk.JDK17, "status", String.valueOf(stopped.pid()));
                assertEquals(1, status.exit, status.toString()); // agent not loaded there
                new ProcessBuilder("kill", "-STOP", String.valueOf(stopped.pid())).start().waitFor();
                AgentCli hung = AgentCli.run(Jdk.JDK17, "status", String.valueOf(stopped.pid()));
                assertEquals(1, hung.exit, hung.toString());
                assertTrue(hung.output.contains("JVM " + stopped.pid() + " did not answer the attach request within 10 s"
                        + " (stopped? state T in /proc/" + stopped.pid() + "/stat)"), hung.toString());
            } finally {
                new ProcessBuilder("kill", "-CONT", String.valueOf(stopped.pid())).start().waitFor();
            }
        }
    }

    /**
     * The fleet-wide off switch and back: {@code attach --all enabled=false} hands every MPTCP listener of the selected
     * JVMs (root, another uid, a container) back to TCP, new client connections are TCP, a connection opened before is
     * still answered; {@code enabled=true} makes them MPTCP again; not one request fails meanwhile.
     */
    @Test
    void attachAllEnabledFalseRollsEveryListenerBackToTcpAndTrueAgain() throws Exception {
        Prerequisites.require("fleet test", Prerequisites.missing(List.of("ip", "ss", "unshare", "setpriv")));
        try (Host host = new Host()) {
            host.service(Jdk.JDK17, null, false, Map.of(), 8081);
            host.service(Jdk.JDK25, OTHER_UID, false, Map.of(), 8082);
            host.service(Jdk.JDK17, OTHER_UID, true, Map.of(), 8083);
            ChildJvm client = host.client(8081, 8082, 8083);
            AgentCli all = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include", host.run);
            assertEquals(0, all.exit, all.toString());
            for (int port : new int[] {8081, 8082, 8083}) {
                assertTrue(host.mptcpListener(port), all.toString());
            }
            ChildJvm held = ChildJvm.command(host.client.wrap(List.of(Jdk.JDK17.java(), ChildJvm.agentArg("mode=client"),
                    "-cp", ChildJvm.CLASSPATH, "mptcp.it.servers.LoadClient", "hold", SERVER, "8081")), Map.of());
            host.children.add(held);
            held.expect("HELD ok");

            AgentCli off = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include", host.run, "enabled=false");
            assertEquals(0, off.exit, off.toString());
            assertTrue(off.output.contains("Result: 3 of 3 selected JVMs have the agent switched off (enabled=false)"),
                    off.toString());
            for (int port : new int[] {8081, 8082, 8083}) {
                assertFalse(host.mptcpListener(port), "TCP again after enabled=false: " + port + "\n" + off);
            }
            held.send("again");
            assertEquals("AGAIN ok", held.expect("AGAIN"), "a connection opened before is still answered");
            assertTrue(host.server.exec("ss", "-Mtn", "state", "established").lines()
                    .noneMatch(l -> l.startsWith("mptcp ") && l.contains(SERVER + ":8082")), "new connections TCP");

            // a --watch started meanwhile leaves the switched-off JVMs off (it never attaches where the agent is loaded)
            ChildJvm watch = ChildJvm.command(List.of(Jdk.JDK17.java(), "-jar", ChildJvm.AGENT.toString(), "attach",
                    "--all", "--watch", "--include", host.run), Map.of());
            host.children.add(watch);
            watch.expect("Watching");
            Thread.sleep(3000); // more than one pass of the watch
            new ProcessBuilder("kill", "-TERM", String.valueOf(watch.pid())).start().waitFor();
            assertEquals(0, watch.exit(30_000), watch.output());
            for (int port : new int[] {8081, 8082, 8083}) {
                assertFalse(host.mptcpListener(port), "still TCP with a --watch running: " + port + "\n" + watch.output());
            }

            AgentCli on = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include", host.run, "enabled=true");
            assertEquals(0, on.exit, on.toString());
            for (int port : new int[] {8081, 8082, 8083}) {
                assertTrue(host.mptcpListener(port), "MPTCP again after enabled=true: " + port + "\n" + on);
            }
            Thread.sleep(500);
            assertNoFailure(client, 10);
        }
    }
}
